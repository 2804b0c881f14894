/*
 * xen-sandbox: run Debian's real xenstored without a hypervisor, in a
 * private directory, and act in it as the hypervisor, the toolstack or a
 * guest. See docs/sandbox.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "sandbox.h"
#include "sandbox-paths.h"

static const char usage_text[] =
	"usage: xen-sandbox [-d DIR] COMMAND [ARGS]\n"
	"\n"
	"The sandbox directory is -d DIR or $XEN_SANDBOX_DIR.\n"
	"\n"
	"  start [--xenstored c|ocaml] [--trace]\n"
	"                         start xenstored: the C one (default, or\n"
	"                         $XEN_SANDBOX_FLAVOUR) or oxenstored; with\n"
	"                         --trace, log every request\n"
	"  stop                   stop it\n"
	"  status                 say whether it runs (exit 0) or not (exit 1)\n"
	"  env                    print the XENSTORED_PATH that reaches it\n"
	"\n"
	"As the toolstack (dom0):\n"
	"  create DOMID [NAME] [--no-introduce]\n"
	"                         create a domain, write its home, introduce it\n"
	"  introduce DOMID        XS_INTRODUCE (fires @introduceDomain)\n"
	"  release DOMID          XS_RELEASE (fires @releaseDomain)\n"
	"\n"
	"As the hypervisor (xenstored notices through VIRQ_DOM_EXC):\n"
	"  shutdown|crash|dying|running DOMID\n"
	"                         set the domain's state\n"
	"  destroy DOMID          the domain no longer exists\n"
	"\n"
	"As the guest, over its own ring (relative paths are under its home):\n"
	"  guest-socket DOMID     start the domain's guest socket and print the\n"
	"                         XENSTORED_PATH that reaches xenstored as DOMID\n"
	"  guest DOMID read PATH\n"
	"  guest DOMID write PATH VALUE\n"
	"  guest DOMID rm PATH\n";

/* Which daemon runs: "xenstored" or "oxenstored", from /proc. */
static const char *process_name(int pid)
{
	static char name[64];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(name, sizeof(name), f))
		snprintf(name, sizeof(name), "xenstored");
	if (f)
		fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return name;
}

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int parse_domid(const char *s, unsigned int *domid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 0xffff) {
		fprintf(stderr, "xen-sandbox: '%s' is not a domid\n", s);
		return -EINVAL;
	}
	*domid = (unsigned int)v;
	return 0;
}

static int cmd_guest(const char *dir, int argc, char **argv)
{
	unsigned int domid;
	struct guest *g;
	char *value = NULL;
	size_t len = 0;
	int r;

	if (argc < 3 || parse_domid(argv[0], &domid) < 0)
		return usage();
	g = guest_open(dir, domid);
	if (!g) {
		fprintf(stderr, "xen-sandbox: guest %u: cannot open its ring: %s\n", domid,
			strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "read") == 0 && argc == 3) {
		r = guest_read(g, 0, argv[2], &value, &len);
		if (r == 0) {
			fwrite(value, 1, len, stdout);
			putchar('\n');
		}
	} else if (strcmp(argv[1], "write") == 0 && argc == 4) {
		r = guest_write(g, 0, argv[2], argv[3], strlen(argv[3]));
	} else if (strcmp(argv[1], "rm") == 0 && argc == 3) {
		r = guest_rm(g, 0, argv[2]);
	} else {
		guest_close(g);
		return usage();
	}
	guest_close(g);
	free(value);
	if (r < 0) {
		fprintf(stderr, "xen-sandbox: guest %u: %s %s: %s\n", domid, argv[1], argv[2],
			strerror(-r));
		return 1;
	}
	return 0;
}

static int with_xs(const char *dir, int (*fn)(const char *, struct xs_handle *, int, char **),
		   int argc, char **argv)
{
	struct xs_handle *xs = sandbox_connect(dir);
	int r;

	if (!xs)
		return 1;
	r = fn(dir, xs, argc, argv);
	xs_close(xs);
	return r;
}

static int do_create(const char *dir, struct xs_handle *xs, int argc, char **argv)
{
	const char *name = NULL;
	bool introduce = true;
	unsigned int domid;
	char default_name[32];

	if (argc < 1 || parse_domid(argv[0], &domid) < 0)
		return usage();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-introduce") == 0)
			introduce = false;
		else if (!name)
			name = argv[i];
		else
			return usage();
	}
	if (!name) {
		snprintf(default_name, sizeof(default_name), "guest-%u", domid);
		name = default_name;
	}
	return sandbox_domain_create(dir, xs, domid, name, introduce) < 0;
}

static int do_introduce(const char *dir, struct xs_handle *xs, int argc, char **argv)
{
	unsigned int domid;

	if (argc != 1 || parse_domid(argv[0], &domid) < 0)
		return usage();
	return sandbox_domain_introduce(dir, xs, domid) < 0;
}

static int do_release(const char *dir, struct xs_handle *xs, int argc, char **argv)
{
	unsigned int domid;

	if (argc != 1 || parse_domid(argv[0], &domid) < 0)
		return usage();
	return sandbox_domain_release(xs, domid) < 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = getenv("XEN_SANDBOX_DIR"), *cmd;
	enum domstate state;
	unsigned int domid;
	int c;

	while ((c = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if (!dir || !*dir) {
		fprintf(stderr, "xen-sandbox: no sandbox directory: give -d DIR or set XEN_SANDBOX_DIR\n");
		return 2;
	}
	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;

	if (strcmp(cmd, "start") == 0) {
		struct sandbox_options opts;
		enum sandbox_flavour flavour;

		sandbox_default_options(&opts);
		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--trace") == 0) {
				opts.trace = true;
			} else if (strcmp(argv[i], "--xenstored") == 0 && i + 1 < argc) {
				if (sandbox_flavour_parse(argv[++i], &flavour) < 0) {
					fprintf(stderr, "xen-sandbox: --xenstored %s: c or ocaml\n", argv[i]);
					return 2;
				}
				sandbox_set_flavour(&opts, flavour);
			} else {
				return usage();
			}
		}
		return sandbox_start(dir, &opts) < 0;
	}
	if (strcmp(cmd, "stop") == 0)
		return argc ? usage() : sandbox_stop(dir) < 0;
	if (strcmp(cmd, "status") == 0) {
		int pid = sandbox_pid(dir);

		if (pid < 0) {
			printf("stopped\n");
			return 1;
		}
		printf("running (%s pid %d)\n", process_name(pid), pid);
		return 0;
	}
	if (strcmp(cmd, "env") == 0) {
		char sock[PATH_MAX];

		if (argc || sandbox_file(sock, sizeof(sock), dir, SANDBOX_SOCKET) < 0)
			return usage();
		printf("XENSTORED_PATH=%s\n", sock);
		return 0;
	}
	if (strcmp(cmd, "create") == 0)
		return with_xs(dir, do_create, argc, argv);
	if (strcmp(cmd, "introduce") == 0)
		return with_xs(dir, do_introduce, argc, argv);
	if (strcmp(cmd, "release") == 0)
		return with_xs(dir, do_release, argc, argv);
	if (strcmp(cmd, "guest") == 0)
		return cmd_guest(dir, argc, argv);
	if (strcmp(cmd, "guest-socket") == 0) {
		char path[PATH_MAX];

		if (argc != 1 || parse_domid(argv[0], &domid) < 0)
			return usage();
		if (sandbox_guest_socket_start(dir, domid, path) < 0)
			return 1;
		printf("XENSTORED_PATH=%s\n", path);
		return 0;
	}
	if (strcmp(cmd, "destroy") == 0) {
		if (argc != 1 || parse_domid(argv[0], &domid) < 0)
			return usage();
		return sandbox_domain_destroy(dir, domid) < 0;
	}
	if (strcmp(cmd, "crash") == 0)
		cmd = "crashed";
	if (domstate_parse(cmd, &state) == 0) {
		if (argc != 1 || parse_domid(argv[0], &domid) < 0)
			return usage();
		return sandbox_domain_set_state(dir, domid, state) < 0;
	}
	fprintf(stderr, "xen-sandbox: unknown command '%s'\n", cmd);
	return usage();
}
