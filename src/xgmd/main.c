/*
 * xgmd: the guest-metrics daemon. Reads its configuration, opens the event
 * socket, and runs the engine and the socket server in one libevent loop
 * until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>

#include "config/config.h"
#include "engine/engine.h"
#include "metrics/version.h"
#include "server/server.h"
#include "util/log.h"
#include "xgm-config.h"
#include "xgm/protocol.h"

static const char usage_text[] =
	"usage: xgmd [OPTIONS]\n"
	"\n"
	"  -c, --config FILE      read FILE (INI; see examples/xgmd.conf)\n"
	"  -s, --socket PATH      the event socket (default " XGM_DEFAULT_SOCKET ")\n"
	"  -f, --foreground       do not detach (what systemd wants)\n"
	"  -l, --log-level LEVEL  err, warning, notice, info or debug\n"
	"      --set KEY=VALUE    override one configuration key (section.key=value)\n"
	"      --check-config     check the configuration and exit\n"
	"  -V, --version          print the version and exit\n"
	"  -h, --help             print this help and exit\n"
	"\n"
	"xenstore is reached the libxenstore way: $XENSTORED_PATH when set.\n";

struct daemon {
	struct event_base *base;
	struct engine *engine;
	struct server *server;
	struct event *sigterm, *sigint, *sighup;
};

static void warn_config(void *arg, const char *msg)
{
	log_warning("%s", msg);
}

static void publish(void *ctx, unsigned int domid, enum xgm_event kind, uint64_t seq,
		    const char *line, size_t len)
{
	struct daemon *d = ctx;

	server_publish(d->server, domid, kind, seq, line, len);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	log_notice("signal %d: shutting down", (int)sig);
	server_shutdown(d->server);
	event_base_loopexit(d->base, NULL);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	log_notice("SIGHUP: reloading is not supported yet; restart xgmd to apply a new configuration");
}

/* Configuration from the file, then --set, then the dedicated options. */
static int load_config(struct xgm_config *cfg, const char *path, int n_sets, char **sets,
		       const char *socket, const char *level, bool strict)
{
	struct config_diag diag = { .strict = strict, .warn = warn_config };
	enum log_level lvl;

	config_init(cfg);
	if (path) {
		int r = config_load(cfg, path, &diag);

		if (r == -EINVAL) {
			fprintf(stderr, "xgmd: %s\n", diag.error);
			return r;
		}
		if (r < 0) {
			fprintf(stderr, "xgmd: cannot read %s: %s\n", path, strerror(-r));
			return r;
		}
	}
	diag.strict = true;
	for (int i = 0; i < n_sets; i++) {
		if (config_set(cfg, sets[i], &diag) < 0) {
			fprintf(stderr, "xgmd: %s\n", diag.error);
			return -EINVAL;
		}
	}
	if (socket) {
		if (socket[0] != '/' || strlen(socket) >= sizeof(cfg->daemon.socket)) {
			fprintf(stderr, "xgmd: --socket %s: must be an absolute path of at most %zu bytes\n",
				socket, sizeof(cfg->daemon.socket) - 1);
			return -EINVAL;
		}
		strcpy(cfg->daemon.socket, socket);
	}
	if (level) {
		if (log_level_parse(level, &lvl) < 0) {
			fprintf(stderr, "xgmd: --log-level %s: expected err, warning, notice, info or debug\n",
				level);
			return -EINVAL;
		}
		cfg->daemon.log_level = (int)lvl;
	}
	if (config_validate(cfg, &diag) < 0) {
		fprintf(stderr, "xgmd: %s\n", diag.error);
		return -EINVAL;
	}
	return 0;
}

static int engine_config_from(struct engine_config *ec, const struct xgm_config *cfg)
{
	*ec = (struct engine_config){
		.domain = {
			.settle = {
				.quiet_ms = cfg->settle.quiet_ms,
				.max_wait_ms = cfg->settle.max_wait_ms,
				.strict = cfg->settle.strict,
			},
			.limits = {
				.max_keys = cfg->limits.max_keys_per_domain,
				.max_bytes = cfg->limits.max_bytes_per_domain,
			},
			.publish = {
				.burst = cfg->limits.publish_burst,
				.per_s = cfg->limits.publish_rate,
			},
		},
		.xs = {
			.watch_handles = cfg->xenstore.watch_connections,
			.liveness_ms = cfg->xenstore.liveness_ms,
			.reconnect_min_ms = cfg->xenstore.reconnect_min_ms,
			.reconnect_max_ms = cfg->xenstore.reconnect_max_ms,
		},
		.live_timeout_s = cfg->metrics.live_timeout_s,
		.reread_all = cfg->xenstore.reread_all,
	};
	if (cfg->metrics.reference_version[0]) {
		if (pv_version_parse(cfg->metrics.reference_version, &ec->metrics.reference) < 0) {
			fprintf(stderr, "xgmd: metrics.reference_version: '%s' is not a version "
				"such as 9.3.1.100\n", cfg->metrics.reference_version);
			return -EINVAL;
		}
		ec->metrics.has_reference = true;
	}
	return 0;
}

static const struct server_engine_ops engine_ops = {
	.snapshot = engine_snapshot,
	.get = engine_get,
	.list = engine_list,
	.stats = engine_stats,
	.last_seq = engine_last_seq,
};

/*
 * systemd socket activation: the listening socket is fd 3 when LISTEN_PID
 * names us. Returns the fd, or -1 when we were not socket-activated.
 */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

/* Tells systemd (Type=notify) we are ready; a no-op elsewhere. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(addr.sun_path))
		return;
	memcpy(addr.sun_path, path, len);
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0';	/* an abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warning("cannot notify systemd: %s", strerror(errno));
	close(fd);
}

/* Detaches once the socket is open, so that start-up errors still reach the caller. */
static int detach(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout))
		return -errno;
	return 0;
}

/*
 * A settle deadline is a promise to subscribers: with epoll's millisecond
 * timeouts rounded up, every batch came out up to a millisecond late.
 * A precise timer (timerfd) keeps the added latency to the work itself.
 */
static struct event_base *new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "set", required_argument, NULL, 'S' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config_path = NULL, *socket = NULL, *level = NULL;
	bool foreground = false, check_only = false;
	char **sets = calloc((size_t)argc, sizeof(*sets));
	int n_sets = 0, c, r, status = 1, activated;
	struct xgm_config cfg;
	struct engine_config ecfg;
	struct server_config scfg;
	struct daemon d = { 0 };

	if (!sets)
		return 1;
	while ((c = getopt_long(argc, argv, "c:s:fl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'l':
			level = optarg;
			break;
		case 'S':
			sets[n_sets++] = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'V':
			printf("xgmd %s\n", XGM_VERSION);
			free(sets);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			free(sets);
			return 0;
		default:
			/* getopt said what was wrong, on one line. */
			fputs("Try 'xgmd --help'.\n", stderr);
			free(sets);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xgmd: unexpected argument '%s'\n", argv[optind]);
		free(sets);
		return 2;
	}
	r = load_config(&cfg, config_path, n_sets, sets, socket, level, check_only);
	free(sets);
	if (r < 0 || engine_config_from(&ecfg, &cfg) < 0)
		return 2;
	if (check_only) {
		printf("configuration OK\n");
		return 0;
	}
	log_set_level((enum log_level)cfg.daemon.log_level);
	/* libevent and libxenstore write to sockets; a gone peer is an error code, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	server_config_from(&scfg, &cfg);
	d.base = new_base();
	if (!d.base)
		goto out;
	d.engine = engine_new(d.base, &ecfg, publish, &d);
	d.server = d.engine ? server_new(d.base, &scfg, &engine_ops, d.engine) : NULL;
	if (!d.server) {
		fprintf(stderr, "xgmd: out of memory\n");
		goto out;
	}
	activated = activated_socket();
	r = activated >= 0 ? server_listen_fd(d.server, activated) :
		server_listen(d.server, cfg.daemon.socket, (mode_t)cfg.daemon.socket_mode);
	if (r < 0)
		goto out;	/* the server said why */
	if (!foreground && detach() < 0) {
		fprintf(stderr, "xgmd: cannot detach: %s\n", strerror(errno));
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	d.sighup = evsignal_new(d.base, SIGHUP, on_sighup, &d);
	if (!d.sigterm || !d.sigint || !d.sighup || evsignal_add(d.sigterm, NULL) < 0 ||
	    evsignal_add(d.sigint, NULL) < 0 || evsignal_add(d.sighup, NULL) < 0 ||
	    engine_start(d.engine) < 0) {
		fprintf(stderr, "xgmd: cannot set up the event loop\n");
		goto out;
	}
	log_notice("xgmd %s listening on %s", XGM_VERSION,
		   activated >= 0 ? "the socket systemd passed" : cfg.daemon.socket);
	notify_ready();
	event_base_dispatch(d.base);
	status = 0;
out:
	if (d.sigterm)
		event_free(d.sigterm);
	if (d.sigint)
		event_free(d.sigint);
	if (d.sighup)
		event_free(d.sighup);
	server_free(d.server);
	engine_free(d.engine);
	if (d.base)
		event_base_free(d.base);
	return status;
}
