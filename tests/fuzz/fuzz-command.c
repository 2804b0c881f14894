/*
 * The command parser on any line a client may send, and the reply or
 * error it leads to: never a crash or a leak, always valid JSON, and the
 * id echoed byte for byte.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/jsonw.h"
#include "protocol/command.h"
#include "protocol/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct command_error err;
	struct command cmd;
	struct jsonw w;
	int r;

	r = command_parse((const char *)data, size, &cmd, &err);
	if (r != 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	if (r == 0 || r == -EINVAL) {
		jsonw_init(&w);
		if (r == 0)
			message_reply(&w, &cmd.id);
		else
			message_error(&w, &cmd.id, err.cls, err.desc);
		fuzz_check_json(&w);
		jsonw_release(&w);
	}
	/* The echoed id is a slice of the line. */
	if (cmd.id.type != COMMAND_ID_NULL && !memmem(data, size, cmd.id.text, cmd.id.len))
		abort();
	if (r == 0 && !cmd.filter.all_domains)
		for (size_t i = 1; i < cmd.filter.n_domains; i++)
			if (cmd.filter.domains[i - 1] >= cmd.filter.domains[i])
				abort();
	command_release(&cmd);
	return 0;
}
