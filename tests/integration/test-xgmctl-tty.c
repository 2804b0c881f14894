/*
 * xgmctl for people, against the real xgmd and xenstored: run under a
 * pseudo-terminal, list prints a table with every guest's row, get a
 * summary, and colours follow NO_COLOR and --color; through a pipe the
 * same commands print JSON lines, and monitor --pretty one line per event.
 * One guest is hostile: its name and values hold terminal escapes,
 * control characters, bytes that are not UTF-8 and 2000 bytes, and none
 * of that reaches the terminal raw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"
#include "util/time.h"

#define TIMEOUT_MS 8000
#define WEB 40
#define OLD 41
#define APPLIANCE 42
#define HOSTILE 43
#define TTY_COLS 160
#define HOSTILE_NAME_PREFIX "\033[2J\033]0;pwned\007evil\xc2\x9b\r\n"

static struct fixture f;
static char hostile_name[2100];

/* One xgmctl run on a terminal (tty) or a pipe, stdout and stderr together. */
struct run {
	pid_t pid;
	int fd;
	char out[1 << 16];
	size_t len;
};

/*
 * Starts xgmctl --socket ours ARGS... (NULL-terminated) in a UTF-8 locale
 * on an xterm; no_color NULL: NO_COLOR unset. cols: the terminal's width.
 */
static void run_start(struct run *r, bool tty, unsigned short cols, const char *no_color, ...)
{
	char *argv[16] = { (char *)XGMCTL_PATH, (char *)"--socket", f.xgmd.socket };
	int argc = 3, pipefd[2];
	va_list ap;

	va_start(ap, no_color);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	r->len = 0;
	if (tty) {
		struct winsize ws = { .ws_row = 50, .ws_col = cols };

		r->pid = forkpty(&r->fd, NULL, NULL, &ws);
	} else {
		assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
		r->pid = fork();
		if (r->pid == 0) {
			dup2(pipefd[1], STDOUT_FILENO);
			dup2(pipefd[1], STDERR_FILENO);
		}
		close(pipefd[1]);
		r->fd = pipefd[0];
	}
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		setenv("LC_ALL", "C.UTF-8", 1);
		setenv("TERM", "xterm", 1);
		setenv("TZ", "UTC", 1);
		if (no_color)
			setenv("NO_COLOR", no_color, 1);
		else
			unsetenv("NO_COLOR");
		execv(XGMCTL_PATH, argv);
		_exit(127);
	}
}

/* Reads everything until xgmctl is done; its exit status. A terminal's "\r\n" reads as "\n". */
static int run_finish(struct run *r)
{
	long deadline = monotonic_ms() + TIMEOUT_MS;
	int status;

	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		assert_true(monotonic_ms() < deadline);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(r->fd, r->out + r->len, sizeof(r->out) - 1 - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)	/* EOF on a pipe, EIO on a terminal whose other side closed */
			break;
		r->len += (size_t)n;
		assert_true(r->len < sizeof(r->out) - 1);
	}
	close(r->fd);
	r->out[r->len] = '\0';
	for (char *s = r->out, *d = r->out;; s++) {
		if (*s != '\r' || s[1] != '\n')
			*d++ = *s;
		if (!*s) {
			r->len = (size_t)(d - r->out - 1);
			break;
		}
	}
	assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int run(struct run *r, bool tty, const char *no_color, const char *a, const char *b,
	       const char *c)
{
	run_start(r, tty, TTY_COLS, no_color, a, b, c, (char *)NULL);
	return run_finish(r);
}

/* The line of out that starts with prefix, up to its newline (static buffer), or NULL. */
static const char *line_starting(const char *out, const char *prefix)
{
	static char line[8192];

	for (const char *s = out; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s)) {
		size_t len = strcspn(s, "\n");

		if (strncmp(s, prefix, strlen(prefix)) == 0 && len < sizeof(line)) {
			memcpy(line, s, len);
			line[len] = '\0';
			return line;
		}
	}
	return NULL;
}

/*
 * The cells of a table line (separated by two blanks or more) are these;
 * "ago" stands for a relative time ("5s ago" or "now").
 */
static void assert_cells(const char *line, ...)
{
	const char *want, *s = line;
	va_list ap;

	assert_non_null(line);
	va_start(ap, line);
	while ((want = va_arg(ap, const char *))) {
		size_t len;

		s += strspn(s, " ");
		for (len = 0; s[len] && !(s[len] == ' ' && s[len + 1] == ' '); len++)
			;
		if (strcmp(want, "ago") == 0 ? !(len == 3 && strncmp(s, "now", 3) == 0) &&
						   !(len > 4 && strncmp(s + len - 4, " ago", 4) == 0)
					     : len != strlen(want) || strncmp(s, want, len) != 0)
			fail_msg("expected the cell \"%s\" at \"%s\" in\n%s", want, s, line);
		s += len;
	}
	va_end(ap);
	assert_string_equal(s, "");
}

/*
 * What a terminal was sent is safe: valid UTF-8, no control character but
 * newlines and, with colour, SGR sequences (ESC [ digits m) alone; every
 * line at most cols characters wide (ASCII and U+2026, U+FFFD: one each).
 */
static void assert_terminal_safe(const char *out, bool colour, size_t cols)
{
	size_t line_cols = 0;

	for (const unsigned char *s = (const unsigned char *)out; *s;) {
		if (*s == '\033') {
			assert_true(colour);
			assert_int_equal(s[1], '[');
			s += 2;
			while (*s >= '0' && *s <= '9')
				s++;
			assert_int_equal(*s, 'm');
			s++;
			continue;
		}
		if (*s == '\n') {
			line_cols = 0;
			s++;
			continue;
		}
		assert_true(*s >= 0x20 && *s != 0x7f);
		if (*s >= 0x80) {
			/* The only non-ASCII characters xgmctl writes here: U+2026 and U+FFFD. */
			assert_true(memcmp(s, "\u2026", 3) == 0 || memcmp(s, "\ufffd", 3) == 0);
			s += 3;
		} else {
			s++;
		}
		if (++line_cols > cols)
			fail_msg("a line is over %zu columns:\n%s", cols, out);
	}
}

/*
 * Writes the guest's keys (path, value, ..., NULL) as the guest, then waits
 * until xgmd published them: for the event whose changed names check_field,
 * which only the last write may change.
 */
static void guest_writes(unsigned int domid, const char *check_field, ...)
{
	const char *path, *value;
	va_list ap;
	yajl_val ev;

	va_start(ap, check_field);
	while ((path = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		assert_int_equal(sandbox_test_guest(f.dir, domid, path, value), 0);
	}
	va_end(ap);
	ev = client_wait_change(&f.sub, domid, check_field, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
}

static int setup(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=50", "metrics.reference_version=9.0", NULL,
	};

	fixture_start(&f, sets, SUBSCRIBE_METRICS);

	assert_true(fixture_new_domain(&f, WEB, "web01"));
	guest_writes(WEB, "os_version", "attr/PVAddons/MajorVersion", "9", "attr/PVAddons/MinorVersion", "3",
		     "attr/PVAddons/MicroVersion", "1", "attr/PVAddons/BuildVersion", "123",
		     "attr/vif/1/ipv4/0", "198.51.100.7", "attr/vif/0/ipv4/0", "192.0.2.10",
		     "data/os_name", "Debian GNU/Linux 12", NULL);
	assert_true(fixture_new_domain(&f, OLD, "old-tools"));
	guest_writes(OLD, "pv_drivers_detected", "attr/PVAddons/MajorVersion", "6",
		     "attr/PVAddons/MinorVersion", "2", NULL);
	assert_true(fixture_new_domain(&f, APPLIANCE, "appliance"));
	guest_writes(APPLIANCE, "pv_drivers_not_upgradable", "attr/PVAddons/MajorVersion", "6",
		     "attr/PVAddons/MinorVersion", "2", "attr/PVAddons/NotUpgradable", "1", NULL);
	/* The toolstack names a domain; the guest writes the rest. */
	strcpy(hostile_name, HOSTILE_NAME_PREFIX);
	memset(hostile_name + strlen(hostile_name), 'A', 2000);
	assert_true(fixture_new_domain(&f, HOSTILE, hostile_name));
	guest_writes(HOSTILE, "os_version", "attr/PVAddons/MajorVersion", "\033[31m9",
		     "attr/PVAddons/MinorVersion", "\xff\xfe\u202e", "attr/vif/0/ipv4/0", "10.0.0.1\033[K\n",
		     "data/os_name", "\033]52;c;cm0gLXJmIH4=\007", NULL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static void test_list_table(void **state)
{
	struct run r;

	assert_int_equal(run(&r, true, "1", "list", NULL, NULL), 0);
	printf("%s", r.out);
	assert_terminal_safe(r.out, false, TTY_COLS);
	assert_cells(line_starting(r.out, "DOMID  "), "DOMID", "NAME", "UUID", "TOOLS", "DETECTED",
		     "UP TO DATE", "LIVE", "IPV4", "UPDATED");
	/* The lowest vif's address; the last update as a relative time. */
	assert_cells(line_starting(r.out, "   40  "), "40", "web01", "00000000-0000-4000-8000-000000000028",
		     "9.3.1.123", "yes", "yes", "yes", "192.0.2.10", "ago");
	assert_cells(line_starting(r.out, "   41  "), "41", "old-tools", "00000000-0000-4000-8000-000000000029",
		     "6.2", "yes", "no", "yes", "-", "ago");
	assert_cells(line_starting(r.out, "   42  "), "42", "appliance", "00000000-0000-4000-8000-00000000002a",
		     "6.2", "yes", "yes (not upgradable)", "yes", "-", "ago");
	/* The hostile guest: escaped and cut, its row in place. */
	assert_cells(line_starting(r.out, "   43  "), "43", "\\x1b[2J\\x1b]0;pwned\\x07evil\u2026",
		     "00000000-0000-4000-8000-00000000002b", "\\x1b[31m9.\ufffd\ufffd\u2026", "no", "no",
		     "yes", "10.0.0.1\\x1b[K\u2026", "ago");
	assert_null(strstr(r.out, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));

	/* Colour on a terminal; NO_COLOR set but empty does not turn it off. */
	assert_int_equal(run(&r, true, NULL, "list", NULL, NULL), 0);
	assert_terminal_safe(r.out, true, TTY_COLS);
	assert_non_null(strstr(r.out, "\033[1mDOMID\033[0m"));
	assert_non_null(strstr(r.out, "\033[33myes (not upgradable)\033[0m"));
	assert_int_equal(run(&r, true, "", "list", NULL, NULL), 0);
	assert_non_null(strstr(r.out, "\033[1mDOMID\033[0m"));
	/* --color wins over NO_COLOR both ways. */
	assert_int_equal(run(&r, true, "1", "--color=always", "list", NULL), 0);
	assert_non_null(strstr(r.out, "\033[1mDOMID\033[0m"));
	assert_int_equal(run(&r, true, NULL, "--color=never", "list", NULL), 0);
	assert_null(strchr(r.out, '\033'));

	/* A narrower terminal: the uuid column gives way first. */
	run_start(&r, true, 120, "1", "list", (char *)NULL);
	assert_int_equal(run_finish(&r), 0);
	printf("%s", r.out);
	assert_terminal_safe(r.out, false, 120);
	assert_cells(line_starting(r.out, "   42  "), "42", "appliance", "0000000\u2026", "6.2",
		     "yes", "yes (not upgradable)", "yes", "-", "ago");
}

/* The list reply: one JSON line with every guest. */
static void assert_list_json(const char *out)
{
	yajl_val v, domains;
	char err[256];
	int seen = 0;

	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
	v = yajl_tree_parse(out, err, sizeof(err));
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "reply");
	domains = json_get(v, "domains", NULL);
	assert_true(YAJL_IS_ARRAY(domains));
	for (size_t i = 0; i < domains->u.array.len; i++) {
		long long id = json_int(domains->u.array.values[i], "id", NULL);

		seen += id == WEB || id == OLD || id == APPLIANCE || id == HOSTILE;
		if (id == HOSTILE)	/* the name is all there: JSON is for programs */
			assert_int_equal(strlen(json_str(domains->u.array.values[i], "name", NULL)),
					 strlen(hostile_name));
	}
	assert_int_equal(seen, 4);
	yajl_tree_free(v);
}

static void test_list_json(void **state)
{
	struct run r;

	/* Not a terminal: JSON, whatever the colour settings. */
	assert_int_equal(run(&r, false, NULL, "list", NULL, NULL), 0);
	assert_list_json(r.out);
	assert_int_equal(run(&r, false, NULL, "--color=always", "list", NULL), 0);
	assert_list_json(r.out);
	/* A terminal, and --json. */
	assert_int_equal(run(&r, true, NULL, "list", "--json", NULL), 0);
	assert_list_json(r.out);
}

/* Every key under v is named in out. */
static void assert_keys_shown(const char *out, yajl_val v)
{
	for (size_t i = 0; YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
		if (!strstr(out, v->u.object.keys[i]))
			fail_msg("%s is not shown:\n%s", v->u.object.keys[i], out);
		assert_keys_shown(out, v->u.object.values[i]);
	}
}

static void test_get(void **state)
{
	yajl_val reply = client_call(&f.ctl, "{\"cmd\":\"get\",\"id\":3,\"domain\":40}"), v;
	struct run r;
	char err[256];

	assert_int_equal(run(&r, true, "1", "get", "40", NULL), 0);
	printf("%s", r.out);
	assert_terminal_safe(r.out, false, 600);
	assert_non_null(line_starting(r.out, "domain   "));
	assert_non_null(strstr(r.out, "\nname            web01\n"));
	assert_non_null(strstr(r.out, "\n    0/ip      192.0.2.10\n"));
	assert_non_null(strstr(r.out, "\n  pv_drivers_up_to_date      yes\n"));
	assert_non_null(strstr(r.out, "\n    name  Debian GNU/Linux 12\n"));
	/* Everything in data. */
	assert_non_null(reply);
	assert_keys_shown(r.out, json_get(reply, "data", NULL));
	yajl_tree_free(reply);

	/* The hostile guest's summary: every value escaped. */
	assert_int_equal(run(&r, true, NULL, "get", "43", NULL), 0);
	printf("%s", r.out);
	assert_terminal_safe(r.out, true, 600);
	assert_non_null(strstr(r.out, "\\x1b]52;c;cm0gLXJmIH4=\\x07"));

	/* Not a terminal, or --json: the reply line as it came. */
	assert_int_equal(run(&r, false, NULL, "get", "40", NULL), 0);
	v = yajl_tree_parse(r.out, err, sizeof(err));
	assert_non_null(v);
	assert_string_equal(json_str(v, "domain", "name"), "web01");
	assert_string_equal(json_str(json_get(v, "data", "networks"), "0/ip", NULL), "192.0.2.10");
	yajl_tree_free(v);
	assert_int_equal(run(&r, true, NULL, "get", "--json", "43"), 0);
	v = yajl_tree_parse(r.out, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(json_int(v, "domain", "id"), HOSTILE);
	yajl_tree_free(v);

	/* Exit codes as before: an unknown domain is the server's error. */
	assert_int_equal(run(&r, true, NULL, "get", "99", NULL), 3);
	assert_string_equal(r.out, "xgmctl: NotFound: no domain 99\n");
}

/* Waits until the server counts n subscribers (ours and xgmctl's). */
static void wait_subscribers(long long n)
{
	assert_true(client_wait_stat_equal(&f.ctl, "server", "subscribers", n, TIMEOUT_MS));
}

static void test_monitor(void **state)
{
	struct run r;
	const char *line;

	/* --pretty through a pipe: the two snapshots, their end, then the change. */
	run_start(&r, false, 0, NULL, "monitor", "--pretty", "--domain", "40", "--domain", "42",
		  "--count", "3", (char *)NULL);
	wait_subscribers(2);
	guest_writes(WEB, "networks", "attr/vif/0/ipv4/0", "192.0.2.11", NULL);
	assert_int_equal(run_finish(&r), 0);
	printf("%s", r.out);
	assert_terminal_safe(r.out, false, 400);
	line = strstr(r.out, "    40 web01                domain.snapshot tools 9.3.1.123, up to date yes, "
			     "live yes, ipv4 192.0.2.10\n");
	assert_non_null(line);
	assert_non_null(strstr(r.out, "    42 appliance            domain.snapshot tools 6.2, "
				      "up to date yes (not upgradable)"));
	assert_non_null(strstr(r.out, " snapshot-end, seq "));
	line = strstr(r.out, "    40 web01                domain.metrics  networks: 0/ip=192.0.2.11 "
			     "0/ipv4/0=192.0.2.11 1/ip=198.51.100.7 1/ipv4/0=198.51.100.7");
	assert_non_null(line);
	/* One line per message: 2 snapshots, their end, 1 change. */
	{
		size_t lines = 0;

		for (const char *s = r.out; *s; s++)
			lines += *s == '\n';
		assert_int_equal(lines, 4);
	}

	/* On a terminal, monitor stays JSON unless --pretty. */
	run_start(&r, true, TTY_COLS, NULL, "monitor", "--domain", "41", "--count", "1", (char *)NULL);
	assert_int_equal(run_finish(&r), 0);
	assert_non_null(strstr(r.out, "{\"type\":\"event\",\"seq\":"));
	assert_non_null(strstr(r.out, "\"event\":\"domain.snapshot\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_list_json),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_monitor),
	};

	/*
	 * memcheck does not know the ioctl glibc opens a pty's peer with
	 * (TIOCGPTPEER, 0x5441) and then reports what is read from it as
	 * uninitialised: under --setup=valgrind this test would fail for it.
	 */
	if (getenv("XGM_XGMD_VALGRIND")) {
		fprintf(stderr, "skipped under valgrind: it cannot follow the pty's ioctls\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
