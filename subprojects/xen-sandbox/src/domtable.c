/*
 * The sandbox's domain table: parsing, formatting and atomic file updates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtable.h"

static const char *const state_names[] = {
	[DOMSTATE_RUNNING] = "running",
	[DOMSTATE_SHUTDOWN] = "shutdown",
	[DOMSTATE_CRASHED] = "crashed",
	[DOMSTATE_DYING] = "dying",
};

const char *domstate_name(enum domstate state)
{
	return state_names[state];
}

int domstate_parse(const char *name, enum domstate *state)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*state = (enum domstate)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void domtable_init(struct domtable *table)
{
	table->count = 1;
	table->entries[0].domid = 0;
	table->entries[0].state = DOMSTATE_RUNNING;
}

int domtable_parse(struct domtable *table, const char *text)
{
	domtable_init(table);
	while (*text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		char line[64], state_name[16], extra;
		unsigned long domid;
		enum domstate state;
		int r;

		if (len >= sizeof(line))
			return -EINVAL;
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (eol ? 1 : 0);
		if (len == 0)
			continue;
		if (sscanf(line, "%lu %15s %c", &domid, state_name, &extra) != 2 ||
		    domid > UINT16_MAX)
			return -EINVAL;
		if (domstate_parse(state_name, &state) < 0)
			return -EINVAL;
		r = domtable_set(table, (uint32_t)domid, state);
		if (r < 0)
			return r;
	}
	return 0;
}

int domtable_format(const struct domtable *table, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t i = 0; i < table->count; i++) {
		int n = snprintf(buf + used, size - used, "%u %s\n",
				 table->entries[i].domid,
				 domstate_name(table->entries[i].state));
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return (int)used;
}

/* Index of the first entry with domid >= the one given. */
static size_t lower_bound(const struct domtable *table, uint32_t domid)
{
	size_t lo = 0, hi = table->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (table->entries[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct domtable_entry *domtable_find(struct domtable *table, uint32_t domid)
{
	size_t i = lower_bound(table, domid);

	if (i < table->count && table->entries[i].domid == domid)
		return &table->entries[i];
	return NULL;
}

int domtable_set(struct domtable *table, uint32_t domid, enum domstate state)
{
	size_t i = lower_bound(table, domid);

	if (i < table->count && table->entries[i].domid == domid) {
		table->entries[i].state = state;
		return 0;
	}
	if (table->count == DOMTABLE_MAX)
		return -ENOSPC;
	memmove(&table->entries[i + 1], &table->entries[i],
		(table->count - i) * sizeof(table->entries[0]));
	table->entries[i].domid = domid;
	table->entries[i].state = state;
	table->count++;
	return 0;
}

bool domtable_remove(struct domtable *table, uint32_t domid)
{
	size_t i = lower_bound(table, domid);

	if (domid == 0 || i == table->count || table->entries[i].domid != domid)
		return false;
	memmove(&table->entries[i], &table->entries[i + 1],
		(table->count - i - 1) * sizeof(table->entries[0]));
	table->count--;
	return true;
}

/* Enough for DOMTABLE_MAX lines of "65535 shutdown\n". */
#define DOMTABLE_TEXT_MAX (DOMTABLE_MAX * 16 + 1)

int domtable_load(struct domtable *table, const char *path)
{
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		domtable_init(table);
		return 0;
	}
	text = malloc(DOMTABLE_TEXT_MAX);
	if (!text) {
		r = -ENOMEM;
		goto out_close;
	}
	while ((n = read(fd, text + len, DOMTABLE_TEXT_MAX - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		r = -errno;
		goto out_free;
	}
	text[len] = '\0';
	r = domtable_parse(table, text);
out_free:
	free(text);
out_close:
	close(fd);
	return r;
}

int domtable_save(const struct domtable *table, const char *path)
{
	char tmp[4096];
	char *text;
	int fd, len, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	text = malloc(DOMTABLE_TEXT_MAX);
	if (!text)
		return -ENOMEM;
	len = domtable_format(table, text, DOMTABLE_TEXT_MAX);
	if (len < 0) {
		r = len;
		goto out_free;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out_free;
	}
	if (write(fd, text, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* rename() makes the new table appear whole to a concurrent reader. */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out_free:
	free(text);
	return r;
}
