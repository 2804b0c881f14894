/*
 * xgmctl: the command-line client of xgmd's event socket. Sends one
 * command and prints the answer, or subscribes and prints events as they
 * come: JSON as the server sent it for programs and pipes, or, on a
 * terminal, rendered for people by format.c. Plain blocking I/O: one
 * socket, one request at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "json/jsonw.h"
#include "xgm-config.h"
#include "xgm/protocol.h"
#include "xgmctl/format.h"
#include "util/array.h"
#include "util/time.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONNECT = 2,
	EXIT_SERVER_ERROR = 3,
	EXIT_PROTOCOL = 4,
};

/* The largest line accepted from the server; events are a few KiB. */
#define MAX_SERVER_LINE (64u * 1024 * 1024)
/* Room made for each recv(). */
#define READ_CHUNK 4096
#define DEFAULT_TIMEOUT_S 10
/* The id of the one command each run sends. */
#define REQUEST_ID 1

static const char usage_text[] =
	"usage: xgmctl [--socket PATH] [--timeout SECONDS] [--color WHEN] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  monitor [--domain N]... [--event NAME]... [--no-snapshot] [--count N] [--pretty]\n"
	"                   subscribe and print every line the server sends:\n"
	"                   a snapshot of each matching domain, snapshot-end,\n"
	"                   then live events (and lost notices); with --count,\n"
	"                   exit after N events; with --pretty, one readable\n"
	"                   line per event instead of JSON\n"
	"  list [--json]    print the known domains: a table on a terminal\n"
	"  get [--json] DOMID\n"
	"                   print one domain's current guest metrics: a summary\n"
	"                   on a terminal\n"
	"  ping             check that the server answers\n"
	"  stats            print the server's and the engine's counters\n"
	"\n"
	"Options:\n"
	"  -s, --socket PATH     the event socket (default: $" XGM_SOCKET_ENV ", else\n"
	"                        " XGM_DEFAULT_SOCKET ")\n"
	"  -t, --timeout SECONDS how long to wait for an answer (default 10; 0: forever);\n"
	"                        monitor also waits at most this long for each event\n"
	"                        when given (default: forever)\n"
	"      --color WHEN      colours for people: auto (on a terminal, unless\n"
	"                        $NO_COLOR is set), always or never\n"
	"  -h, --help            print this help\n"
	"  -V, --version         print the version\n"
	"\n"
	"Event names: domain.new, domain.metrics, domain.gone, domain.snapshot.\n"
	"Output is JSON, one object per line, as the server sent it (see\n"
	"docs/protocol.md), unless stdout is a terminal (list, get) or --pretty\n"
	"is given (monitor). Errors go to stderr, one line.\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  usage error\n"
	"  2  cannot connect (no socket, no permission, or too many clients)\n"
	"  3  the server answered with an error (e.g. NotFound for an unknown domain)\n"
	"  4  protocol error, timeout, or the connection was lost or shut down\n";

static void die(enum exit_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(enum exit_code code, const char *fmt, ...)
{
	va_list ap;

	fputs("xgmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("xgmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see xgmctl --help)\n", stderr);
	exit(EXIT_USAGE);
}

/* The connection: a socket and what was read past the last line. */
struct conn {
	int fd;
	int timeout_ms;		/* per answer; -1: forever */
	char *buf;
	size_t len, size;
};

static void conn_open(struct conn *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_CONNECT, "%s: socket path too long", path);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die(EXIT_CONNECT, "cannot create a socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(EXIT_CONNECT, "cannot connect to %s: %s", path, strerror(errno));
	c->timeout_ms = timeout_ms;
	c->buf = NULL;
	c->size = 0;
	c->len = 0;
	if (ARRAY_RESERVE(c->buf, c->size, READ_CHUNK, READ_CHUNK, SIZE_MAX) < 0)
		die(EXIT_PROTOCOL, "out of memory");
}

static void conn_send(struct conn *c, const char *text, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a server gone away is an exit status, not a signal. */
		ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_PROTOCOL, "cannot send to the server: %s", strerror(errno));
		text += n;
		len -= (size_t)n;
	}
}

/* The next line (NUL-terminated in place, valid until the next call), or NULL at EOF. */
static char *conn_read_line(struct conn *c, size_t *consumed)
{
	int64_t deadline = c->timeout_ms < 0 ? 0 : monotonic_ms() + c->timeout_ms;

	if (*consumed) {
		memmove(c->buf, c->buf + *consumed, c->len - *consumed);
		c->len -= *consumed;
		*consumed = 0;
	}
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*consumed = (size_t)(nl - c->buf) + 1;
			return c->buf;
		}
		if (c->len >= MAX_SERVER_LINE)
			die(EXIT_PROTOCOL, "the server sent a line longer than %u bytes", MAX_SERVER_LINE);
		if (ARRAY_RESERVE(c->buf, c->size, c->len + READ_CHUNK, READ_CHUNK,
				  MAX_SERVER_LINE + READ_CHUNK) < 0)
			die(EXIT_PROTOCOL, "out of memory");
		if (c->timeout_ms >= 0) {
			int64_t left = deadline - monotonic_ms();

			if (left <= 0 || poll(&p, 1, (int)left) == 0)
				die(EXIT_PROTOCOL, "no answer from the server within %d s", c->timeout_ms / 1000);
		}
		n = recv(c->fd, c->buf + c->len, c->size - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_PROTOCOL, "connection lost: %s", strerror(errno));
		if (n == 0) {
			if (c->len)
				die(EXIT_PROTOCOL, "connection lost in the middle of a line");
			return NULL;
		}
		c->len += (size_t)n;
	}
}

struct message {
	yajl_val root;
	const char *type;
};

static void message_parse(struct message *m, const char *line)
{
	const char *type_path[] = { "type", NULL };
	char err[256];

	m->root = yajl_tree_parse(line, err, sizeof(err));
	if (!m->root)
		die(EXIT_PROTOCOL, "the server sent invalid JSON: %.*s", (int)strcspn(err, "\n"), err);
	m->type = YAJL_GET_STRING(yajl_tree_get(m->root, type_path, yajl_t_string));
	if (!YAJL_IS_OBJECT(m->root) || !m->type)
		die(EXIT_PROTOCOL, "the server sent a message without a type");
}

static const char *message_string(const struct message *m, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };

	return YAJL_GET_STRING(yajl_tree_get(m->root, path, yajl_t_string));
}

/* Prints a server error as one line and exits with the code for "the server said no". */
static void die_server_error(const struct message *m, enum exit_code code)
{
	const char *cls = message_string(m, "error", "class"), *desc = message_string(m, "error", "desc");

	die(code, "%s: %s", cls ? cls : "error", desc ? desc : "(no description)");
}

static void expect_hello(struct conn *c, size_t *consumed)
{
	const char *protocol_path[] = { "protocol", NULL };
	struct message m;
	yajl_val protocol;
	char *line = conn_read_line(c, consumed);

	if (!line)
		die(EXIT_PROTOCOL, "the server closed the connection without a greeting");
	message_parse(&m, line);
	if (strcmp(m.type, XGM_TYPE_ERROR) == 0)
		die_server_error(&m, EXIT_CONNECT);	/* refused: TooManyClients */
	if (strcmp(m.type, XGM_TYPE_HELLO) != 0)
		die(EXIT_PROTOCOL, "expected a hello from the server, got \"%s\"", m.type);
	protocol = yajl_tree_get(m.root, protocol_path, yajl_t_number);
	if (!YAJL_IS_INTEGER(protocol) || YAJL_GET_INTEGER(protocol) != XGM_PROTOCOL_VERSION)
		die(EXIT_PROTOCOL, "the server speaks another protocol version (this xgmctl speaks %d)",
		    XGM_PROTOCOL_VERSION);
	yajl_tree_free(m.root);
}

static bool is_our_answer(const struct message *m)
{
	const char *id_path[] = { "id", NULL };
	yajl_val id = yajl_tree_get(m->root, id_path, yajl_t_any);

	return YAJL_IS_INTEGER(id) && YAJL_GET_INTEGER(id) == REQUEST_ID;
}

/*
 * The next message, parsed (the caller frees m->root). EOF exits 4 saying
 * eof; a bye exits 4; an error exits with error_code.
 */
static char *await_message(struct conn *c, size_t *consumed, struct message *m, const char *eof,
			   enum exit_code error_code)
{
	char *line = conn_read_line(c, consumed);

	if (!line)
		die(EXIT_PROTOCOL, "%s", eof);
	message_parse(m, line);
	if (strcmp(m->type, XGM_TYPE_BYE) == 0)
		die(EXIT_PROTOCOL, "the server is shutting down");
	if (strcmp(m->type, XGM_TYPE_ERROR) == 0)
		die_server_error(m, error_code);
	return line;
}

/*
 * Reads up to the answer to our command. A reply is returned, parsed (the
 * caller prints its line or goes on, then frees reply->root); an error
 * exits 3 (we send one command: any error is about it, whatever its id
 * says); a bye or EOF exits 4.
 */
static char *await_reply(struct conn *c, size_t *consumed, struct message *reply)
{
	for (;;) {
		char *line = await_message(c, consumed, reply,
					   "the server closed the connection before answering",
					   EXIT_SERVER_ERROR);

		if (strcmp(reply->type, XGM_TYPE_REPLY) == 0 && is_our_answer(reply))
			return line;
		/* Anything else (a newer server's notices) is not for us. */
		yajl_tree_free(reply->root);
	}
}

/*
 * The next message of a subscription, parsed (the caller frees m->root).
 * The end of the stream (EOF, bye, an error: only a failure that ends the
 * stream comes as an error here) exits 4.
 */
static char *await_stream_message(struct conn *c, size_t *consumed, struct message *m)
{
	return await_message(c, consumed, m, "the server closed the connection", EXIT_PROTOCOL);
}

/* Sends the command written into w as one line and releases w, or dies when it could not be written. */
static void send_command(struct conn *c, struct jsonw *w)
{
	const char *text;
	size_t len;
	int r = jsonw_error(w);

	if (r == -ENOMEM)
		die(EXIT_PROTOCOL, "out of memory");
	if (r)
		die(EXIT_PROTOCOL, "cannot encode the command: %s", strerror(-r));
	jsonw_text(w, &text, &len);
	conn_send(c, text, len);
	conn_send(c, "\n", 1);
	jsonw_release(w);
}

/* How output looks: decided once, from stdout, the locale, NO_COLOR and --color. */
struct output {
	bool tty;			/* stdout is a terminal: list and get render for people */
	struct fmt_options fmt;		/* fmt.now is set when rendering */
};

static void flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EXIT_PROTOCOL, "cannot write to stdout: %s", strerror(errno));
}

static void print_line(const char *line)
{
	if (puts(line) == EOF)
		die(EXIT_PROTOCOL, "cannot write to stdout: %s", strerror(errno));
	flush_stdout();
}

/* A renderer's status: only running out of memory or a failing stdout make one. */
static void check_rendered(int r)
{
	if (r == -ENOMEM)
		die(EXIT_PROTOCOL, "out of memory");
	if (r)
		die(EXIT_PROTOCOL, "cannot write to stdout: %s", strerror(errno));
	flush_stdout();
}

static unsigned long parse_number(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v > max)
		usage_error("%s must be a number from 0 to %lu, not '%s'", what, max, s);
	return v;
}

/*
 * Sends a command with no arguments but "domain" for get (domid < 0:
 * none) and returns its reply line, parsed into *reply.
 */
static char *request(struct conn *c, size_t *consumed, const char *cmd, long domid,
		     struct message *reply)
{
	struct jsonw w;

	expect_hello(c, consumed);
	jsonw_init(&w);
	jsonw_map_open(&w);
	jsonw_cstr(&w, "cmd");
	jsonw_cstr(&w, cmd);
	jsonw_cstr(&w, "id");
	jsonw_int(&w, REQUEST_ID);
	if (domid >= 0) {
		jsonw_cstr(&w, "domain");
		jsonw_int(&w, domid);
	}
	jsonw_map_close(&w);
	send_command(c, &w);
	return await_reply(c, consumed, reply);
}

/* The reply as JSON, or (get on a terminal) the summary. */
static int simple_command(struct conn *c, const char *cmd, long domid, bool summary,
			  struct output *out)
{
	size_t consumed = 0;
	struct message reply;
	char *line = request(c, &consumed, cmd, domid, &reply);

	if (summary) {
		out->fmt.now = (long long)wall_seconds();
		check_rendered(fmt_get(stdout, reply.root, &out->fmt));
	} else {
		print_line(line);
	}
	yajl_tree_free(reply.root);
	return EXIT_OK;
}

struct monitor_args {
	int event_timeout_ms;	/* -1: forever */
	const char **domains;
	size_t n_domains;
	const char **events;
	size_t n_events;
	bool no_live_events;	/* the snapshot only: an empty event filter */
	bool snapshot;
	bool pretty;
	unsigned long count;	/* 0: forever */
};

static void write_subscribe(struct jsonw *w, const struct monitor_args *a)
{
	jsonw_map_open(w);
	jsonw_cstr(w, "cmd");
	jsonw_cstr(w, "subscribe");
	jsonw_cstr(w, "id");
	jsonw_int(w, REQUEST_ID);
	jsonw_cstr(w, "snapshot");
	jsonw_bool(w, a->snapshot);
	if (a->n_domains || a->n_events || a->no_live_events) {
		jsonw_cstr(w, "filter");
		jsonw_map_open(w);
		if (a->n_domains) {
			jsonw_cstr(w, "domains");
			jsonw_array_open(w);
			for (size_t i = 0; i < a->n_domains; i++)
				jsonw_int(w, (long long)parse_number(a->domains[i], XGM_DOMID_MAX,
								     "--domain"));
			jsonw_array_close(w);
		}
		if (a->n_events || a->no_live_events) {
			jsonw_cstr(w, "events");
			jsonw_array_open(w);
			for (size_t i = 0; i < a->n_events; i++)
				jsonw_cstr(w, a->events[i]);
			jsonw_array_close(w);
		}
		jsonw_map_close(w);
	}
	jsonw_map_close(w);
}

/* Sends the subscribe command and waits for its reply. */
static void subscribe(struct conn *c, size_t *consumed, const struct monitor_args *a)
{
	struct message reply;
	struct jsonw w;

	expect_hello(c, consumed);
	jsonw_init(&w);
	write_subscribe(&w, a);
	send_command(c, &w);
	await_reply(c, consumed, &reply);
	yajl_tree_free(reply.root);
}

static int monitor(struct conn *c, const struct monitor_args *a, struct output *out)
{
	size_t consumed = 0;
	unsigned long seen = 0;

	subscribe(c, &consumed, a);
	c->timeout_ms = a->event_timeout_ms;
	while (!a->count || seen < a->count) {
		struct message m;
		char *line = await_stream_message(c, &consumed, &m);
		bool is_event = strcmp(m.type, XGM_TYPE_EVENT) == 0;

		if (a->pretty) {
			out->fmt.now = (long long)wall_seconds();
			check_rendered(fmt_message(stdout, m.root, &out->fmt));
		} else {
			print_line(line);
		}
		yajl_tree_free(m.root);
		if (is_event)
			seen++;
	}
	return EXIT_OK;
}

/*
 * The list table. The list reply holds no guest metrics, so the rows come
 * from a snapshot of every domain, without live events: one request, and
 * every row as of the same seq.
 */
static int list_table(struct conn *c, struct output *out)
{
	const struct monitor_args a = { .snapshot = true, .no_live_events = true };
	struct fmt_row *rows = NULL;
	size_t n = 0, cap = 0, consumed = 0;

	subscribe(c, &consumed, &a);
	for (;;) {
		struct message m;
		const char *event;
		int r;

		await_stream_message(c, &consumed, &m);
		if (strcmp(m.type, XGM_TYPE_SNAPSHOT_END) == 0) {
			yajl_tree_free(m.root);
			break;
		}
		event = message_string(&m, "event", NULL);
		if (strcmp(m.type, XGM_TYPE_EVENT) != 0 || !event ||
		    strcmp(event, xgm_event_name(XGM_EVENT_DOMAIN_SNAPSHOT)) != 0) {
			yajl_tree_free(m.root);	/* not ours to show */
			continue;
		}
		if (ARRAY_RESERVE(rows, cap, n + 1, 64, SIZE_MAX) < 0)
			die(EXIT_PROTOCOL, "out of memory");
		r = fmt_row_from_message(&rows[n], m.root);
		yajl_tree_free(m.root);
		if (r == -ENOMEM)
			die(EXIT_PROTOCOL, "out of memory");
		if (r)
			die(EXIT_PROTOCOL, "the server sent a snapshot event without a domain id");
		n++;
	}
	out->fmt.now = (long long)wall_seconds();
	check_rendered(fmt_table(stdout, rows, n, &out->fmt));
	for (size_t i = 0; i < n; i++)
		fmt_row_free(&rows[i]);
	free(rows);
	return EXIT_OK;
}

static int run_monitor(struct conn *c, const char *path, int timeout_ms, int event_timeout_ms,
		       int argc, char **argv, struct output *out)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "event", required_argument, NULL, 'e' },
		{ "no-snapshot", no_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'n' },
		{ "pretty", no_argument, NULL, 'p' },
		{ 0 },
	};
	struct monitor_args a = { .snapshot = true, .event_timeout_ms = event_timeout_ms };
	int opt, r;

	a.domains = calloc((size_t)argc, sizeof(*a.domains));
	a.events = calloc((size_t)argc, sizeof(*a.events));
	if (!a.domains || !a.events)
		die(EXIT_PROTOCOL, "out of memory");
	/* 0, not 1: glibc then forgets the "+" of the first parse and permutes again. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:e:n:p", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			parse_number(optarg, XGM_DOMID_MAX, "--domain");
			a.domains[a.n_domains++] = optarg;
			break;
		case 'e':
			if (!xgm_event_from_name(optarg, strlen(optarg)))
				usage_error("unknown event '%s'", optarg);
			a.events[a.n_events++] = optarg;
			break;
		case 'S':
			a.snapshot = false;
			break;
		case 'n':
			a.count = parse_number(optarg, ULONG_MAX, "--count");
			if (!a.count)
				usage_error("--count must be at least 1");
			break;
		case 'p':
			a.pretty = true;
			break;
		default:
			usage_error("bad monitor option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	conn_open(c, path, timeout_ms);
	r = monitor(c, &a, out);
	free(a.domains);
	free(a.events);
	return r;
}

/*
 * The options of list and get: --json. Returns whether it was given and
 * leaves optind at the first operand (argv[0] is the command).
 */
static bool parse_json_option(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	bool json = false;
	int opt;

	/* 0, not 1: glibc then forgets the "+" of the first parse and permutes again. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (opt != 'j')
			usage_error("bad %s option", argv[0]);
		json = true;
	}
	return json;
}

/* NO_COLOR (https://no-color.org): set and not empty turns colour off, unless --color=always. */
static bool colour_wanted(const char *when, bool tty)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (strcmp(when, "always") == 0)
		return true;
	if (strcmp(when, "never") == 0)
		return false;
	if (strcmp(when, "auto") != 0)
		usage_error("--color must be auto, always or never, not '%s'", when);
	return tty && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

static void output_init(struct output *out, const char *color)
{
	struct winsize ws;

	out->tty = isatty(STDOUT_FILENO);
	out->fmt.color = colour_wanted(color, out->tty);
	/* Widths need the locale's character table; a terminal that is not UTF-8 gets ASCII. */
	setlocale(LC_CTYPE, "");
	out->fmt.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	out->fmt.width = out->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_COLOR = 256 };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *path = getenv(XGM_SOCKET_ENV), *cmd, *color = "auto";
	long timeout_s = -1;
	struct conn c = { .fd = -1 };
	struct output out = { 0 };
	int opt, r, cmd_argc, answer_ms, event_ms;
	char **cmd_argv;

	if (!path || !*path)
		path = XGM_DEFAULT_SOCKET;
	/* "+": options after the command belong to the command. */
	while ((opt = getopt_long(argc, argv, "+s:t:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 't':
			timeout_s = (long)parse_number(optarg, INT_MAX / 1000, "--timeout");
			break;
		case OPT_COLOR:
			color = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("xgmctl %s (protocol %d)\n", XGM_VERSION, XGM_PROTOCOL_VERSION);
			return EXIT_OK;
		default:
			usage_error("bad option");
		}
	}
	if (optind >= argc)
		usage_error("no command given");
	cmd = argv[optind];
	cmd_argc = argc - optind;
	cmd_argv = argv + optind;
	output_init(&out, color);

	/* An answer comes within the timeout; events in monitor may be hours apart. */
	answer_ms = timeout_s < 0 ? DEFAULT_TIMEOUT_S * 1000 : timeout_s == 0 ? -1 : (int)timeout_s * 1000;
	event_ms = timeout_s <= 0 ? -1 : (int)timeout_s * 1000;
	/* Arguments are checked before connecting: a usage error is never a connection error. */
	if (strcmp(cmd, "monitor") == 0) {
		r = run_monitor(&c, path, answer_ms, event_ms, cmd_argc, cmd_argv, &out);
	} else if (strcmp(cmd, "get") == 0) {
		bool json = parse_json_option(cmd_argc, cmd_argv);
		long domid;

		if (cmd_argc - optind != 1)
			usage_error("usage: xgmctl get [--json] DOMID");
		domid = (long)parse_number(cmd_argv[optind], XGM_DOMID_MAX, "DOMID");
		conn_open(&c, path, answer_ms);
		r = simple_command(&c, "get", domid, out.tty && !json, &out);
	} else if (strcmp(cmd, "list") == 0) {
		bool json = parse_json_option(cmd_argc, cmd_argv);

		if (optind < cmd_argc)
			usage_error("unexpected argument '%s'", cmd_argv[optind]);
		conn_open(&c, path, answer_ms);
		r = out.tty && !json ? list_table(&c, &out) : simple_command(&c, "list", -1, false, &out);
	} else if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "stats") == 0) {
		if (cmd_argc != 1)
			usage_error("%s takes no arguments", cmd);
		conn_open(&c, path, answer_ms);
		r = simple_command(&c, cmd, -1, false, &out);
	} else {
		usage_error("unknown command '%s'", cmd);
	}
	close(c.fd);
	free(c.buf);
	return r;
}
