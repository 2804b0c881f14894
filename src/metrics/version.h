/*
 * PV tools versions: strict parsing of the components a guest writes to
 * attr/PVAddons/{Major,Minor,Micro,Build}Version and of the reference version
 * in our configuration, and their comparison. Owns no memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* major, minor, micro, build: compared in that order. */
#define PV_VERSION_PARTS 4
#define PV_VERSION_MISSING (-1LL)

struct pv_version {
	long long part[PV_VERSION_PARTS];	/* >= 0, or PV_VERSION_MISSING */
};

/*
 * A guest's version from its four components as written (part[i] NULL when
 * the key is absent), each parsed by decimal_parse_trimmed() (util/decimal.h).
 * Returns true when major and minor both parse, which is
 * what "PV drivers detected" means. A micro or build that is absent or does
 * not parse (xen-guest-agent writes build "proto-0.4.0") counts as
 * PV_VERSION_MISSING instead of hiding a usable major.minor; a major or
 * minor that does not parse is stored as missing too.
 */
bool pv_version_from_parts(struct pv_version *out,
			   const char *const part[PV_VERSION_PARTS],
			   const size_t len[PV_VERSION_PARTS]);

/*
 * A reference version from configuration: 1 to 4 dot-separated components,
 * each digits only (no whitespace: the config reader trims lines), e.g.
 * "9.3.1.100" or "7.0"; the components not given are PV_VERSION_MISSING.
 * The build may also follow a '-' ("9.4.0-123"), the way Xen Orchestra
 * shows tools versions.
 * Returns 0 or -EINVAL / -ERANGE; *out is written only on success.
 */
int pv_version_parse(const char *s, struct pv_version *out);

/* <0, 0, >0 as a is older than, equal to, newer than b; missing (-1) is below 0. */
int pv_version_compare(const struct pv_version *a, const struct pv_version *b);
