/*
 * /proc readers for the benchmark. schedstat's first field is the task's
 * sum_exec_runtime in nanoseconds; /proc/<pid>/stat's utime and stime only
 * have clock-tick (10 ms) resolution, too coarse for phases of a second.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "procstat.h"

static int read_u64(const char *path, const char *key, uint64_t *value)
{
	char line[256];
	size_t klen = key ? strlen(key) : 0;
	int r = -ENOENT;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (key && strncmp(line, key, klen) != 0)
			continue;
		if (sscanf(line + klen, "%" SCNu64, value) == 1)
			r = 0;
		break;
	}
	fclose(f);
	return r;
}

int proc_usage(pid_t pid, struct proc_usage *u)
{
	char path[64];
	struct dirent *de;
	DIR *tasks;
	int r;

	*u = (struct proc_usage){ 0 };
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (!tasks)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(tasks))) {
		char stat[sizeof(path) + sizeof(de->d_name) + 16];
		uint64_t ns;

		if (de->d_name[0] == '.')
			continue;
		snprintf(stat, sizeof(stat), "/proc/%d/task/%s/schedstat", (int)pid, de->d_name);
		if (read_u64(stat, NULL, &ns) == 0)	/* a thread may end meanwhile */
			u->cpu_ns += ns;
	}
	closedir(tasks);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_u64(path, "VmRSS:", &u->rss_kib);
	if (r == 0)
		r = read_u64(path, "VmHWM:", &u->hwm_kib);
	return r;
}
