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
	yajl_gen g;
	int r;

	r = command_parse((const char *)data, size, &cmd, &err);
	if (r != 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	g = jsonw_new();
	if (g) {
		if (r == 0)
			r = message_reply(g, &cmd.id);
		else if (r == -EINVAL)
			r = message_error(g, &cmd.id, err.cls, err.desc);
		if (r == 0)
			fuzz_check_json(g);
		yajl_gen_free(g);
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
