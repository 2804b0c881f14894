/*
 * xgm-not-upgradable: runs inside a guest. Makes the guest's own
 * attr/PVAddons/NotUpgradable agree with /etc/pv-drivers-not-upgradable
 * ("1" while the file exists, no key while it does not) and, when that
 * changed anything, writes data/updated so that a toolstack that inspects
 * the keys only on that kick (the proposal; xgmd in strict mode) looks.
 * The version keys belong to the real agent and are never touched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xenstore.h>

#include "guest/flag.h"
#include "xgm-config.h"

/* Exit statuses (xgm-not-upgradable(8)). */
enum {
	EXIT_DONE = 0,		/* the key agrees with the file, changed or not */
	EXIT_FILE = 1,		/* whether the file exists cannot be told */
	EXIT_USAGE = 2,
	EXIT_NO_XENSTORE = 3,	/* not a Xen guest, or xenstore unreachable */
	EXIT_REFUSED = 4,	/* xenstore refused a read or a write */
};

static const char usage_text[] =
	"usage: xgm-not-upgradable [--file PATH] [--quiet]\n"
	"\n"
	"Sets attr/PVAddons/NotUpgradable to \"1\" in this guest's xenstore home\n"
	"while PATH (default " FLAG_FILE_DEFAULT ") exists, and removes\n"
	"it while it does not; after a change, writes data/updated.\n"
	"\n"
	"Exit status: 0 done, 1 PATH cannot be checked, 2 usage,\n"
	"3 xenstore unreachable (not a Xen guest?), 4 xenstore refused a request.\n";

static bool quiet;

#define say(...) do { if (!quiet) printf(__VA_ARGS__); } while (0)

/* 1 present, 0 absent, -1 (with a message) when it cannot be told. */
static int file_present(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	fprintf(stderr, "xgm-not-upgradable: %s: %s\n", path, strerror(errno));
	return -1;
}

static int refused(const char *what, const char *path)
{
	fprintf(stderr, "xgm-not-upgradable: xenstore refused to %s %s: %s\n", what, path,
		strerror(errno));
	return EXIT_REFUSED;
}

static int apply(struct xs_handle *xs, enum flag_action action)
{
	switch (action) {
	case FLAG_NOTHING:
		say("%s already agrees; nothing written\n", FLAG_KEY);
		return EXIT_DONE;
	case FLAG_WRITE:
		if (!xs_write(xs, XBT_NULL, FLAG_KEY, "1", 1))
			return refused("write", FLAG_KEY);
		say("%s = \"1\"\n", FLAG_KEY);
		break;
	case FLAG_REMOVE:
		if (!xs_rm(xs, XBT_NULL, FLAG_KEY) && errno != ENOENT)
			return refused("remove", FLAG_KEY);
		say("%s removed\n", FLAG_KEY);
		break;
	}
	if (!xs_write(xs, XBT_NULL, FLAG_KICK, "1", 1))
		return refused("write", FLAG_KICK);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = FLAG_FILE_DEFAULT;
	struct xs_handle *xs;
	unsigned int len = 0;
	char *value;
	int opt, present, status;

	while ((opt = getopt_long(argc, argv, "f:qhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_DONE;
		case 'V':
			printf("xgm-not-upgradable %s\n", XGM_VERSION);
			return EXIT_DONE;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	present = file_present(path);
	if (present < 0)
		return EXIT_FILE;

	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "xgm-not-upgradable: cannot reach xenstore (is this a Xen guest?): %s\n",
			strerror(errno));
		return EXIT_NO_XENSTORE;
	}
	value = xs_read(xs, XBT_NULL, FLAG_KEY, &len);
	if (!value && errno != ENOENT) {
		status = refused("read", FLAG_KEY);
	} else {
		status = apply(xs, flag_decide(present, value, len));
	}
	free(value);
	xs_close(xs);
	return status;
}
