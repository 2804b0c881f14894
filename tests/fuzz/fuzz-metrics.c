/*
 * A guest's writes, as the engine applies them: any sequence of sets and
 * removals into a small keyset, then the metrics computed from it, diffed
 * against the previous ones and encoded as JSON. Never a crash or a leak,
 * never past the keyset's limits, always valid JSON.
 *
 * Input: records of [op byte][prefix byte][suffix length][suffix][value
 * length][value]; the prefix picks one of the subtrees the metrics read,
 * so the fuzzer spends its time where the parsing is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/jsonw.h"
#include "metrics/keyset.h"
#include "metrics/metrics-json.h"
#include "metrics/metrics.h"

static const char *const prefixes[] = {
	"data/", "attr/", "attr/PVAddons/", "attr/PVAddons/NotUpgradable", "data/meminfo_",
	"attr/os/", "attr/vif/0/ipv4/", "attr/vif/1/ipv6/", "data/volumes/", "control/",
	"feature/", "drivers/", "xenserver/attr/", "attr/eth0/", "data/updated", "",
};

struct reader {
	const uint8_t *p;
	size_t left;
};

static size_t take(struct reader *rd, size_t n, const uint8_t **out)
{
	if (n > rd->left)
		n = rd->left;
	*out = rd->p;
	rd->p += n;
	rd->left -= n;
	return n;
}

static unsigned int take_byte(struct reader *rd)
{
	const uint8_t *b;

	return take(rd, 1, &b) ? b[0] : 0;
}

static void publish(const struct guest_metrics *old, const struct guest_metrics *m)
{
	const char *changed[64];
	struct jsonw w;

	metrics_diff(old, m, changed, sizeof(changed) / sizeof(changed[0]));
	jsonw_init(&w);
	metrics_json(&w, m);
	fuzz_check_json(&w);
	jsonw_release(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct keyset_limits limits = { .max_keys = 64, .max_bytes = 4096 };
	struct reader rd = { data, size };
	struct guest_metrics old, cur;
	struct keyset *ks = keyset_new(&limits);
	bool have_old = false;

	if (!ks)
		return 0;
	metrics_init(&old);
	while (rd.left) {
		unsigned int op = take_byte(&rd), prefix = take_byte(&rd);
		const uint8_t *suffix, *value;
		size_t suffix_len = take(&rd, take_byte(&rd), &suffix);
		size_t value_len = take(&rd, take_byte(&rd) * 8, &value);
		char path[512];

		snprintf(path, sizeof(path), "%s%.*s",
			 prefixes[prefix % (sizeof(prefixes) / sizeof(prefixes[0]))], (int)suffix_len,
			 (const char *)suffix);
		switch (op % 4) {
		case 0:
		case 1:
			keyset_set(ks, path, (const char *)value, value_len);
			break;
		case 2:
			keyset_remove(ks, path);
			break;
		case 3:
			keyset_remove_subtree(ks, path);
			break;
		}
		if (keyset_count(ks) > limits.max_keys || keyset_bytes(ks) > limits.max_bytes)
			abort();
		if (op & 0x80) {
			/* A batch ends: publish what changed. */
			if (metrics_compute(&cur, ks, NULL, NULL) != 0)
				continue;
			publish(have_old ? &old : NULL, &cur);
			metrics_free(&old);
			old = cur;
			have_old = true;
		}
	}
	if (metrics_compute(&cur, ks, NULL, NULL) == 0) {
		publish(have_old ? &old : NULL, &cur);
		metrics_free(&cur);
	}
	metrics_free(&old);
	keyset_free(ks);
	return 0;
}
