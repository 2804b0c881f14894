/*
 * xgmd: the guest-metrics daemon. Reads its configuration, opens the event
 * socket, and runs the engine and the socket server in one libevent loop
 * until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "config/config.h"
#include "engine/engine.h"
#include "metrics/version.h"
#include "prometheus/http.h"
#include "server/server.h"
#include "util/log.h"
#include "util/sd-notify.h"
#include "xgm-config.h"
#include "xgm/protocol.h"

static const char usage_text[] =
	"usage: xgmd [OPTIONS]\n"
	"\n"
	"  -c, --config FILE      read FILE (INI; see xgmd.conf(5)); default\n"
	"                         " XGM_DEFAULT_CONFIG " if it exists\n"
	"  -s, --socket PATH      the event socket (default " XGM_DEFAULT_SOCKET ")\n"
	"  -f, --foreground       do not detach (what systemd wants)\n"
	"  -l, --log-level LEVEL  " LOG_LEVEL_NAMES "\n"
	"      --set KEY=VALUE    override one configuration key (section.key=value)\n"
	"      --check-config     check the configuration and exit\n"
	"  -V, --version          print the version and exit\n"
	"  -h, --help             print this help and exit\n"
	"\n"
	"xenstore is reached the libxenstore way: $XENSTORED_PATH when set.\n";

/* What was asked on the command line: a reload reads the same file and keeps these on top. */
struct options {
	const char *config_path;	/* --config, or NULL for the installed file if any */
	int n_sets;
	char **sets;			/* --set KEY=VALUE, applied after the file */
	const char *socket, *level;	/* --socket, --log-level */
};

struct daemon {
	struct event_base *base;
	struct engine *engine;
	struct server *server;
	struct prom_http *prometheus;	/* NULL: [prometheus] listen is off */
	struct event *sigterm, *sigint, *sighup;
	struct event *watchdog;		/* NULL without a systemd watchdog */
	const struct options *opts;
	struct xgm_config cfg;		/* as running */
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

/* Tells systemd (Type=notify) something; a no-op elsewhere. */
static void notify_systemd(const char *msg)
{
	int r = sd_notify_send(msg);

	if (r < 0)
		log_warning("cannot notify systemd (%s): %s", msg, strerror(-r));
}

/* A one-line reason into err[ERR_MAX]. */
#define ERR_MAX 400

static int load_error(char *err, int r, const char *path, const struct config_diag *diag)
{
	if (r == -EINVAL)
		snprintf(err, ERR_MAX, "%s", diag->error);
	else
		snprintf(err, ERR_MAX, "cannot read %s: %s", path, strerror(-r));
	return r;
}

/*
 * Configuration from the file (opts->config_path, else the installed one
 * if it exists), then --set, then the dedicated options. *used: the file
 * read, or NULL. On failure err says why, in one line.
 */
static int load_config(struct xgm_config *cfg, const struct options *opts, bool strict,
		       const char **used, char *err)
{
	struct config_diag diag = { .strict = strict, .warn = warn_config };
	const char *path = opts->config_path;
	enum log_level lvl;
	int r;

	*used = NULL;

	config_init(cfg);
	if (!path) {
		/* The installed file is optional; one named with --config is not. */
		r = config_load(cfg, XGM_DEFAULT_CONFIG, &diag);
		if (r == 0)
			*used = XGM_DEFAULT_CONFIG;
		else if (r != -ENOENT)
			return load_error(err, r, XGM_DEFAULT_CONFIG, &diag);
	} else {
		r = config_load(cfg, path, &diag);
		if (r < 0)
			return load_error(err, r, path, &diag);
		*used = path;
	}
	diag.strict = true;
	for (int i = 0; i < opts->n_sets; i++) {
		if (config_set(cfg, opts->sets[i], &diag) < 0)
			return load_error(err, -EINVAL, NULL, &diag);
	}
	if (opts->socket) {
		if (opts->socket[0] != '/' || strlen(opts->socket) >= sizeof(cfg->daemon.socket)) {
			snprintf(err, ERR_MAX, "--socket %s: must be an absolute path of at most %zu bytes",
				 opts->socket, sizeof(cfg->daemon.socket) - 1);
			return -EINVAL;
		}
		strcpy(cfg->daemon.socket, opts->socket);
	}
	if (opts->level) {
		if (log_level_parse(opts->level, &lvl) < 0) {
			snprintf(err, ERR_MAX, "--log-level %s: expected " LOG_LEVEL_NAMES, opts->level);
			return -EINVAL;
		}
		cfg->daemon.log_level = (int)lvl;
	}
	if (config_validate(cfg, &diag) < 0)
		return load_error(err, -EINVAL, NULL, &diag);
	return 0;
}

static int engine_config_from(struct engine_config *ec, const struct xgm_config *cfg, char *err)
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
			.request_handles = cfg->xenstore.request_connections,
			.request_timeout_ms = cfg->xenstore.request_timeout_ms,
			.liveness_ms = cfg->xenstore.liveness_ms,
			.reconnect_min_ms = cfg->xenstore.reconnect_min_ms,
			.reconnect_max_ms = cfg->xenstore.reconnect_max_ms,
		},
		.live_timeout_s = cfg->metrics.live_timeout_s,
		.reread_all = cfg->xenstore.reread_all,
	};
	if (cfg->metrics.reference_version[0]) {
		if (pv_version_parse(cfg->metrics.reference_version, &ec->metrics.reference) < 0) {
			snprintf(err, ERR_MAX, "metrics.reference_version: '%s' is not a version "
				 "such as 9.3.1.100", cfg->metrics.reference_version);
			return -EINVAL;
		}
		ec->metrics.has_reference = true;
	}
	if (cfg->prometheus.listen[0]) {
		char host[PROM_HOST_MAX];
		uint16_t port;

		if (prom_listen_parse(cfg->prometheus.listen, host, &port) < 0) {
			snprintf(err, ERR_MAX, "prometheus.listen: '%s' is not ADDRESS:PORT "
				 "(127.0.0.1:9101, [::1]:9101 or :9101)", cfg->prometheus.listen);
			return -EINVAL;
		}
	}
	return 0;
}

static void log_kept(void *arg, const char *key, const char *value)
{
	log_warning("reload: %s changes only at restart; keeping '%s'", key, value);
}

/*
 * SIGHUP: re-reads the configuration. A file with an error is rejected in
 * one line and the running configuration kept; otherwise everything but the
 * keys the configuration table marks as restart-only applies at once.
 */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct xgm_config next;
	struct engine_config ecfg;
	struct server_config scfg;
	const char *used;
	char err[ERR_MAX];

	notify_systemd("RELOADING=1");
	if (load_config(&next, d->opts, false, &used, err) < 0 ||
	    engine_config_from(&ecfg, &next, err) < 0) {
		log_err("reload rejected, keeping the running configuration: %s", err);
		notify_systemd("READY=1");
		return;
	}
	config_keep_restart_keys(&next, &d->cfg, log_kept, NULL);
	engine_config_from(&ecfg, &next, err);	/* [xenstore] as running */
	d->cfg = next;
	log_set_level((enum log_level)next.daemon.log_level);
	server_config_from(&scfg, &next);
	server_reconfigure(d->server, &scfg);
	engine_reconfigure(d->engine, &ecfg);
	if (d->prometheus)
		prom_http_set_slice(d->prometheus, next.prometheus.slice_domains);
	log_notice("reloaded the configuration from %s", used ? used : "the built-in defaults");
	notify_systemd("READY=1");
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

/* The loop is alive: systemd restarts xgmd when these stop (WatchdogSec=). */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify_systemd("WATCHDOG=1");
}

/* A timer at half the interval systemd asked for, as sd_watchdog_enabled(3) advises. */
static int start_watchdog(struct daemon *d)
{
	uint64_t usec = sd_watchdog_usec();
	struct timeval half;

	if (!usec)
		return 0;
	half.tv_sec = (time_t)(usec / 2 / 1000000);
	half.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
	if (!d->watchdog || event_add(d->watchdog, &half) < 0)
		return -ENOMEM;
	log_info("watchdog: WATCHDOG=1 every %llu ms", (unsigned long long)(usec / 2000));
	return 0;
}

/*
 * Gives the socket to [daemon] socket_group, so that its members can
 * connect (0660 root:xgm). "" keeps xgmd's own group.
 */
static int chown_socket(const char *path, const char *group)
{
	struct group *gr;

	if (!group[0])
		return 0;
	errno = 0;
	gr = getgrnam(group);
	if (!gr) {
		log_err("daemon.socket_group: no group '%s'%s%s", group, errno ? ": " : "",
			errno ? strerror(errno) : "");
		return -ENOENT;
	}
	if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
		int r = -errno;

		log_err("cannot give %s to group %s: %s", path, group, strerror(-r));
		return r;
	}
	return 0;
}

/* Detaches once the socket is open, so that start-up errors still reach the caller. */
/*
 * Forks into the background. The base was made before (the sockets are
 * bound first, so that errors reach the terminal), and its epoll and
 * timer fds would be shared with the parent: event_reinit() gives the
 * child its own, as tmux does after it forks.
 */
static int detach(struct event_base *base)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (event_reinit(base) < 0)
		return -EIO;
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
	const char *config_used;
	bool foreground = false, check_only = false;
	struct options opts = { .sets = calloc((size_t)argc, sizeof(char *)) };
	char **sets = opts.sets;	/* freed at exit: a reload applies them again */
	int c, r, status = 1, activated;
	struct engine_config ecfg;
	struct server_config scfg;
	struct daemon d = { .opts = &opts };
	struct xgm_config *cfg = &d.cfg;
	char err[ERR_MAX];

	if (!sets)
		return 1;
	while ((c = getopt_long(argc, argv, "c:s:fl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 's':
			opts.socket = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'l':
			opts.level = optarg;
			break;
		case 'S':
			sets[opts.n_sets++] = optarg;
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
	r = load_config(cfg, &opts, check_only, &config_used, err);
	if (r < 0 || engine_config_from(&ecfg, cfg, err) < 0) {
		fprintf(stderr, "xgmd: %s\n", err);
		free(sets);
		return 2;
	}
	if (check_only) {
		free(sets);
		if (config_used)
			printf("configuration OK: %s\n", config_used);
		else
			printf("configuration OK: the built-in defaults (there is no %s)\n",
			       XGM_DEFAULT_CONFIG);
		return 0;
	}
	log_set_level((enum log_level)cfg->daemon.log_level);
	/* libevent and libxenstore write to sockets; a gone peer is an error code, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	server_config_from(&scfg, cfg);
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
		server_listen(d.server, cfg->daemon.socket, (mode_t)cfg->daemon.socket_mode);
	if (r < 0 || (activated < 0 && chown_socket(cfg->daemon.socket, cfg->daemon.socket_group) < 0))
		goto out;	/* the server said why */
	if (cfg->prometheus.listen[0]) {
		d.prometheus = prom_http_new(d.base, d.engine, d.server,
					     cfg->prometheus.slice_domains);
		if (!d.prometheus) {
			fprintf(stderr, "xgmd: out of memory\n");
			goto out;
		}
		if (prom_http_listen(d.prometheus, cfg->prometheus.listen) < 0)
			goto out;	/* it said why */
	}
	if (!foreground && detach(d.base) < 0) {
		fprintf(stderr, "xgmd: cannot detach: %s\n", strerror(errno));
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	d.sighup = evsignal_new(d.base, SIGHUP, on_sighup, &d);
	if (!d.sigterm || !d.sigint || !d.sighup || evsignal_add(d.sigterm, NULL) < 0 ||
	    evsignal_add(d.sigint, NULL) < 0 || evsignal_add(d.sighup, NULL) < 0 ||
	    start_watchdog(&d) < 0 || engine_start(d.engine) < 0) {
		fprintf(stderr, "xgmd: cannot set up the event loop\n");
		goto out;
	}
	log_notice("xgmd %s listening on %s", XGM_VERSION,
		   activated >= 0 ? "the socket systemd passed" : cfg->daemon.socket);
	if (config_used)
		log_info("configuration: %s", config_used);
	else
		log_info("configuration: the built-in defaults (there is no %s)", XGM_DEFAULT_CONFIG);
	notify_systemd("READY=1");
	event_base_dispatch(d.base);
	status = 0;
out:
	if (d.sigterm)
		event_free(d.sigterm);
	if (d.sigint)
		event_free(d.sigint);
	if (d.sighup)
		event_free(d.sighup);
	if (d.watchdog)
		event_free(d.watchdog);
	prom_http_free(d.prometheus);
	server_free(d.server);
	engine_free(d.engine);
	if (d.base)
		event_base_free(d.base);
	free(sets);
	return status;
}
