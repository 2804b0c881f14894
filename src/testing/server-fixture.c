/* The component tests' fixture (server-fixture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "testing/server-fixture.h"

struct server_fixture *server_fixture_new(const struct server_config *cfg, mode_t mode)
{
	struct server_fixture *f = calloc(1, sizeof(*f));
	int r = -ENOMEM;

	if (!f)
		goto fail;
	f->cfg = *cfg;
	strcpy(f->dir, "/tmp/xgm-test-XXXXXX");
	if (!mkdtemp(f->dir)) {
		r = -errno;
		f->dir[0] = '\0';
		goto fail;
	}
	snprintf(f->path, sizeof(f->path), "%s/xgmd.sock", f->dir);
	fake_engine_init(&f->engine);
	f->base = event_base_new();
	if (!f->base)
		goto fail;
	f->server = server_new(f->base, &f->cfg, &fake_engine_ops, &f->engine);
	if (!f->server)
		goto fail;
	r = server_listen(f->server, f->path, mode);
	if (r < 0)
		goto fail;
	return f;
fail:
	fprintf(stderr, "cannot start the server fixture: %s\n", strerror(-r));
	server_fixture_free(f);
	return NULL;
}

void server_fixture_free(struct server_fixture *f)
{
	if (!f)
		return;
	if (f->server)
		server_free(f->server);
	if (f->base)
		event_base_free(f->base);
	if (f->dir[0]) {
		unlink(f->path);
		rmdir(f->dir);
	}
	free(f);
}

void server_fixture_pump(struct server_fixture *f)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void pump(void *arg)
{
	server_fixture_pump(arg);
}

int server_fixture_dial(struct server_fixture *f, struct client *c, const char *path)
{
	int r = client_dial(c, path ? path : f->path);

	if (r < 0)
		return r;
	c->pump = pump;
	c->pump_arg = f;
	server_fixture_pump(f);
	return 0;
}
