/*
 * The component tests' fixture: the real socket server on a loop of the
 * test's own, behind the fake engine, listening in a private temporary
 * directory, and line clients that run that loop while they wait.
 */
#pragma once

#include <sys/types.h>

#include "server/server.h"
#include "testing/client.h"
#include "testing/fake-engine.h"

struct server_fixture {
	struct event_base *base;
	struct server *server;
	struct fake_engine engine;
	struct server_config cfg;	/* what the server was made with */
	char dir[64];			/* the temporary directory */
	char path[128];			/* dir/xgmd.sock */
};

/*
 * A temporary directory, a loop, the fake engine and a server with cfg
 * listening on dir/xgmd.sock with mode; NULL (with a message) on failure.
 */
struct server_fixture *server_fixture_new(const struct server_config *cfg, mode_t mode);
/* Frees the server and the loop, removes the socket and the directory, and frees f. */
void server_fixture_free(struct server_fixture *f);
/* Runs whatever the loop has ready, a few turns, without waiting. */
void server_fixture_pump(struct server_fixture *f);
/*
 * Connects c to path (NULL: the fixture's socket) in pump mode, then lets
 * the server accept it: 0 or a negative errno.
 */
int server_fixture_dial(struct server_fixture *f, struct client *c, const char *path);
