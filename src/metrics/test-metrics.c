/* Unit tests of the guest metrics computation: key mapping, flags, networks, diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/metrics.h"

struct kv {
	const char *path;
	const char *value;
	size_t len;		/* 0: strlen(value) */
};

/* A literal's length, so that values may hold NUL. */
#define KV(path, value) { (path), (value), sizeof(value) - 1 }

static const struct metrics_clock no_clock = { .now = 1000, .last_write = GM_ABSENT, .live_timeout = 300 };

static struct keyset *make_keyset(const struct kv *kv, size_t n)
{
	struct keyset *ks = keyset_new(NULL);

	assert_non_null(ks);
	for (size_t i = 0; i < n; i++) {
		size_t len = kv[i].len ? kv[i].len : strlen(kv[i].value);

		assert_true(keyset_set(ks, kv[i].path, kv[i].value, len) >= 0);
	}
	return ks;
}

static void compute_cfg(struct guest_metrics *m, const struct kv *kv, size_t n,
			const struct metrics_config *cfg)
{
	struct keyset *ks = make_keyset(kv, n);

	assert_int_equal(metrics_compute(m, ks, cfg, &no_clock), 0);
	keyset_free(ks);
}

#define COMPUTE(m, kv) compute_cfg((m), (kv), sizeof(kv) / sizeof((kv)[0]), NULL)

/* Asserts that map has key with exactly value (a C string). */
static void expect(const struct gm_map *map, const char *key, const char *value)
{
	const struct gm_pair *p = gm_map_find(map, key, strlen(key));

	if (!p)
		fail_msg("missing key \"%s\"", key);
	assert_int_equal(p->value_len, strlen(value));
	assert_memory_equal(p->value, value, p->value_len);
}

static void expect_none(const struct gm_map *map, const char *key)
{
	if (gm_map_find(map, key, strlen(key)))
		fail_msg("unexpected key \"%s\"", key);
}

static void test_empty(void **state)
{
	struct keyset *ks = keyset_new(NULL);
	struct guest_metrics m;

	assert_int_equal(metrics_compute(&m, ks, NULL, NULL), 0);
	assert_int_equal(m.os_version.count + m.pv_drivers_version.count + m.networks.count +
			 m.disks.count + m.other.count, 0);
	assert_false(m.pv_drivers_detected);
	assert_false(m.pv_drivers_up_to_date);
	assert_false(m.pv_drivers_not_upgradable);
	assert_int_equal(m.memory.total_kib, GM_ABSENT);
	assert_int_equal(m.memory.free_kib, GM_ABSENT);
	assert_int_equal(m.can_use_hotplug_vbd, GM_HOTPLUG_UNSPECIFIED);
	assert_false(m.live);
	assert_int_equal(m.last_updated, GM_ABSENT);
	assert_false(m.limit_reached);
	metrics_free(&m);
	metrics_free(&m);	/* idempotent: freed means empty */
	metrics_free(NULL);
	keyset_free(ks);
}

static void test_os_version(void **state)
{
	static const struct kv kv[] = {
		KV("data/os_name", "Microsoft Windows Server 2019 Standard|C:\\Windows|\\Device\\Harddisk0\\Partition2"),
		KV("data/os_uname", "10.0.17763"),
		KV("data/os_distro", "windows"),
		KV("data/os_majorver", "10"),
		KV("data/os_minorver", "04"),
		KV("data/os_buildver", "17763"),
		KV("attr/os/spmajor", "0"),
		KV("attr/os/spminor", ""),
		KV("attr/os/class", "Windows NT"),	/* not mapped, as in xapi */
		KV("data/os_other", "x"),		/* unknown: not mapped */
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.os_version, "name", kv[0].value);
	expect(&m.os_version, "uname", "10.0.17763");
	expect(&m.os_version, "distro", "windows");
	expect(&m.os_version, "major", "10");
	expect(&m.os_version, "minor", "04");	/* as written */
	expect(&m.os_version, "build", "17763");
	expect(&m.os_version, "spmajor", "0");
	expect(&m.os_version, "spminor", "");
	assert_int_equal(m.os_version.count, 8);
	/* Sorted by key. */
	for (size_t i = 1; i < m.os_version.count; i++)
		assert_true(strcmp(m.os_version.items[i - 1].key, m.os_version.items[i].key) < 0);
	metrics_free(&m);
}

static void test_os_version_binary(void **state)
{
	static const struct kv kv[] = {
		KV("data/os_name", "a\0b\xff"),
	};
	struct guest_metrics m;
	const struct gm_pair *p;

	COMPUTE(&m, kv);
	p = gm_map_find(&m.os_version, "name", 4);
	assert_non_null(p);
	assert_int_equal(p->value_len, 4);
	assert_memory_equal(p->value, "a\0b\xff", 4);
	expect_none(&m.os_version, "uname");
	metrics_free(&m);
}

static void test_pv_drivers_version(void **state)
{
	static const struct kv kv[] = {
		KV("attr/PVAddons/MajorVersion", "9"),
		KV("attr/PVAddons/MinorVersion", "1"),
		KV("attr/PVAddons/BuildVersion", "proto-0.4.0"),
		KV("attr/PVAddons/Application", "agent"),
		KV("attr/PVAddons/Installed", "1"),
		KV("drivers/0", "XenServer XENBUS 9.1.9.105 "),
		KV("drivers/1", "XenServer XENVBD 9.1.8.79 (DEBUG)"),
		KV("drivers/2", "XCP-ng XENBUS 8.0.0.1 "),	/* duplicate product, higher index */
		KV("drivers/10", "Other XENNET 1.2.3.4"),	/* no attrs, no trailing space */
		KV("drivers/3", "Broken"),			/* does not split: dropped */
		KV("drivers/4", "Vendor  XENVIF 1.0 "),		/* empty product: dropped */
		KV("drivers/5", "Vendor XEN\xffVIF 1.0 "),	/* product not [A-Za-z0-9_-]: dropped */
		KV("drivers/6", "Vendor MAJOR 1.0 "),		/* cannot override PVAddons' major */
		KV("drivers/x", "Vendor XENFOO 1.0 "),		/* not a numeric index */
		KV("drivers/07", "Vendor XENBAR 1.0 "),		/* not canonical */
		KV("drivers/8/sub", "Vendor XENBAZ 1.0 "),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.pv_drivers_version, "major", "9");
	expect(&m.pv_drivers_version, "minor", "1");
	expect(&m.pv_drivers_version, "build", "proto-0.4.0");
	expect(&m.pv_drivers_version, "application", "agent");
	/* No "-1" micro is invented: consumers see what the guest wrote. */
	expect_none(&m.pv_drivers_version, "micro");
	expect(&m.pv_drivers_version, "xenbus", "XenServer 9.1.9.105");
	expect(&m.pv_drivers_version, "xenvbd", "XenServer 9.1.8.79 (DEBUG)");
	expect(&m.pv_drivers_version, "xennet", "Other 1.2.3.4");
	expect_none(&m.pv_drivers_version, "xenvif");
	expect_none(&m.pv_drivers_version, "xenfoo");
	expect_none(&m.pv_drivers_version, "xenbar");
	expect_none(&m.pv_drivers_version, "xenbaz");
	assert_int_equal(m.pv_drivers_version.count, 7);
	/* major/minor parse: detected, although build does not. */
	assert_true(m.pv_drivers_detected);
	assert_true(m.pv_drivers_up_to_date);
	metrics_free(&m);
}

struct up_case {
	const char *major, *minor, *micro, *build, *not_upgradable, *reference;
	bool detected, up_to_date, not_upgradable_flag;
};

static void test_up_to_date_truth_table(void **state)
{
	static const struct up_case cases[] = {
		/* NotUpgradable "1" wins over old, missing or garbage versions. */
		{ "1", "0", "0", "0", "1", "9.3.1.100", true, true, true },
		{ NULL, NULL, NULL, NULL, "1", "9.3", false, true, true },
		{ NULL, NULL, NULL, NULL, "1", NULL, false, true, true },
		{ "@PRODUCT_MAJOR_VERSION@", "x", NULL, NULL, "1", "9.3", false, true, true },
		/* Anything but exactly "1" is not the flag. */
		{ "1", "0", "0", "0", "0", "9.3", true, false, false },
		{ "1", "0", "0", "0", "true", "9.3", true, false, false },
		{ "1", "0", "0", "0", "", "9.3", true, false, false },
		{ "1", "0", "0", "0", " 1", "9.3", true, false, false },
		{ "1", "0", "0", "0", "1 ", "9.3", true, false, false },
		{ "1", "0", "0", "0", "01", "9.3", true, false, false },
		{ NULL, NULL, NULL, NULL, "0", NULL, false, false, false },
		/* No reference: up to date = detected. */
		{ "1", "0", "0", "proto-0.4.0", NULL, NULL, true, true, false },
		{ "9", NULL, NULL, NULL, NULL, NULL, false, false, false },
		{ "", "", "", "", NULL, NULL, false, false, false },
		{ "-1", "0", NULL, NULL, NULL, NULL, false, false, false },
		/* With a reference: detected and >= reference. */
		{ "9", "3", "1", "100", NULL, "9.3.1.100", true, true, false },
		{ "9", "3", "1", "99", NULL, "9.3.1.100", true, false, false },
		{ "9", "4", "0", "0", NULL, "9.3.1.100", true, true, false },
		{ "10", "0", NULL, NULL, NULL, "9.3.1.100", true, true, false },
		{ "9", "3", NULL, NULL, NULL, "9.3.1.100", true, false, false },	/* micro -1 < 1 */
		{ "9", "3", NULL, NULL, NULL, "9.3", true, true, false },	/* -1 >= -1 */
		{ "9", "3", "x", NULL, NULL, "9.3.0", true, false, false },	/* garbage micro = -1 */
		{ "9", "3", "0", "proto", NULL, "9.3.0", true, true, false },
		{ " 9\n", "3", NULL, NULL, NULL, "9.3", true, true, false },	/* blanks tolerated */
		{ "9", NULL, NULL, NULL, NULL, "1", false, false, false },
		{ NULL, NULL, NULL, NULL, NULL, "0", false, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct up_case *c = &cases[i];
		struct metrics_config cfg = { 0 };
		struct kv kv[5];
		size_t n = 0;
		struct keyset *ks;
		struct guest_metrics m;

#define ADD(p, v) do { if (v) kv[n++] = (struct kv){ (p), (v), 0 }; } while (0)
		ADD("attr/PVAddons/MajorVersion", c->major);
		ADD("attr/PVAddons/MinorVersion", c->minor);
		ADD("attr/PVAddons/MicroVersion", c->micro);
		ADD("attr/PVAddons/BuildVersion", c->build);
		ADD("attr/PVAddons/NotUpgradable", c->not_upgradable);
#undef ADD
		ks = keyset_new(NULL);
		for (size_t k = 0; k < n; k++)
			assert_true(keyset_set(ks, kv[k].path, kv[k].value, strlen(kv[k].value)) >= 0);
		if (c->reference) {
			cfg.has_reference = true;
			assert_int_equal(pv_version_parse(c->reference, &cfg.reference), 0);
		}
		assert_int_equal(metrics_compute(&m, ks, &cfg, &no_clock), 0);
		if (m.pv_drivers_detected != c->detected ||
		    m.pv_drivers_up_to_date != c->up_to_date ||
		    m.pv_drivers_not_upgradable != c->not_upgradable_flag)
			fail_msg("case %zu: detected %d up_to_date %d not_upgradable %d", i,
				 m.pv_drivers_detected, m.pv_drivers_up_to_date,
				 m.pv_drivers_not_upgradable);
		metrics_free(&m);
		keyset_free(ks);
	}
}

static void test_networks_vif(void **state)
{
	static const struct kv kv[] = {
		KV("attr/vif/0", ""),				/* xen-guest-agent's node */
		KV("attr/vif/0/name", "Ethernet 2"),		/* xenvif's alias: not an address */
		KV("attr/vif/0/ipv4/0", "10.0.0.5"),
		KV("attr/vif/0/ipv4/1", "10.0.0.5"),		/* duplicate address: both kept */
		KV("attr/vif/0/ipv6/0", "fe80:0000:0000:0000:a872:13ff:feec:4a11"),
		KV("attr/vif/0/ipv6/1", "fe80::a872:13ff:feec:4a11"),
		KV("attr/vif/1/ipv4/10", "192.168.1.10"),
		KV("attr/vif/1/ipv4/2", "192.168.1.2"),	/* numerically lowest */
		KV("attr/vif/1/ipv4/a", "1.1.1.1"),		/* non-integer: ignored alone */
		KV("attr/vif/1/ipv4/01", "1.1.1.2"),		/* non-canonical: ignored alone */
		KV("attr/vif/1/ipv5/0", "1.1.1.3"),
		KV("attr/vif/1/ipv4/3/x", "1.1.1.4"),
		KV("attr/vif/2/ipv6/0", "::1"),		/* IPv6 only: no <id>/ip */
		KV("attr/eth0/ip", "172.16.0.1"),		/* legacy: ignored, attr/vif exists */
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.networks, "0/ip", "10.0.0.5");
	expect(&m.networks, "0/ipv4/0", "10.0.0.5");
	expect(&m.networks, "0/ipv4/1", "10.0.0.5");
	expect(&m.networks, "0/ipv6/0", "fe80::a872:13ff:feec:4a11");	/* RFC 5952 */
	expect(&m.networks, "0/ipv6/1", "fe80::a872:13ff:feec:4a11");
	expect(&m.networks, "1/ip", "192.168.1.2");
	expect(&m.networks, "1/ipv4/2", "192.168.1.2");
	expect(&m.networks, "1/ipv4/10", "192.168.1.10");
	expect(&m.networks, "2/ipv6/0", "::1");
	expect_none(&m.networks, "2/ip");
	expect_none(&m.networks, "1/ipv4/1");
	assert_int_equal(m.networks.count, 9);
	metrics_free(&m);
}

static void test_networks_legacy(void **state)
{
	static const struct kv kv[] = {
		KV("attr/eth0/ip", "10.0.0.1"),
		KV("attr/eth0/ipv6/0/addr", "fe80::1"),
		KV("attr/eth0/ipv6/1/addr", "2001:db8::1"),
		KV("attr/eth0/ipv6/x/addr", "2001:db8::2"),	/* non-integer */
		KV("attr/eth0/mac/0", "00:16:3e:00:00:01"),
		KV("attr/eth1/ipv4/0/addr", "10.0.1.1"),		/* old Windows xenvif */
		KV("attr/eth1/ipv4/1/addr", "10.0.1.2"),
		KV("attr/ens3/ip", "10.0.3.1"),
		KV("attr/xenbr7/ip", "10.0.7.1"),
		KV("attr/enX0/ip", "10.9.9.9"),		/* not a name xapi recognises */
		KV("attr/eth/ip", "10.9.9.8"),			/* no index */
		KV("attr/PVAddons/MajorVersion", "6"),
		KV("xenserver/attr/net-sriov-vf/4/ipv4/0", "10.0.4.1"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.networks, "0/ip", "10.0.0.1");
	expect(&m.networks, "0/ipv4/0", "10.0.0.1");
	expect(&m.networks, "0/ipv6/0", "fe80::1");
	expect(&m.networks, "0/ipv6/1", "2001:db8::1");
	expect(&m.networks, "1/ip", "10.0.1.1");
	expect(&m.networks, "1/ipv4/0", "10.0.1.1");
	expect(&m.networks, "1/ipv4/1", "10.0.1.2");
	expect(&m.networks, "3/ip", "10.0.3.1");
	expect(&m.networks, "3/ipv4/0", "10.0.3.1");
	expect(&m.networks, "7/ip", "10.0.7.1");
	expect(&m.networks, "4/ip", "10.0.4.1");	/* SR-IOV VF */
	expect(&m.networks, "4/ipv4/0", "10.0.4.1");
	assert_int_equal(m.networks.count, 13);
	metrics_free(&m);
}

static void test_networks_both_layouts(void **state)
{
	/* Any child of attr/vif, even a non-address one, retires the legacy layout. */
	static const struct kv kv[] = {
		KV("attr/vif/0/name", "Ethernet"),
		KV("attr/eth0/ip", "10.0.0.1"),
		KV("attr/eth0/ipv6/0/addr", "fe80::1"),
	};
	static const struct kv kv2[] = {
		KV("attr/vif/0/ipv4/0", "10.0.0.2"),
		KV("attr/eth0/ip", "10.0.0.1"),
		KV("attr/eth1/ip", "10.0.1.1"),
		/* A VF reusing the vif's id: the vif's address wins the clash. */
		KV("xenserver/attr/net-sriov-vf/0/ipv4/0", "10.0.9.9"),
		KV("xenserver/attr/net-sriov-vf/0/ipv4/1", "10.0.9.8"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	assert_int_equal(m.networks.count, 0);
	metrics_free(&m);

	COMPUTE(&m, kv2);
	expect(&m.networks, "0/ip", "10.0.0.2");
	expect(&m.networks, "0/ipv4/0", "10.0.0.2");
	expect(&m.networks, "0/ipv4/1", "10.0.9.8");
	expect_none(&m.networks, "1/ip");
	assert_int_equal(m.networks.count, 3);
	metrics_free(&m);
}

static void test_networks_legacy_duplicate_names(void **state)
{
	/* eth0 and ens0 both claim vif 0: the first in path order (ens0) wins. */
	static const struct kv kv[] = {
		KV("attr/eth0/ip", "10.0.0.1"),
		KV("attr/ens0/ip", "10.0.0.2"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.networks, "0/ip", "10.0.0.2");
	expect(&m.networks, "0/ipv4/0", "10.0.0.2");
	assert_int_equal(m.networks.count, 2);
	metrics_free(&m);
}

static void test_networks_ipv6_spelling(void **state)
{
	static const struct {
		const char *written, *published;
	} cases[] = {
		/* Windows xenvif: 8 groups of 4 zero-padded digits. */
		{ "fe80:0000:0000:0000:a872:13ff:feec:4a11", "fe80::a872:13ff:feec:4a11" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "0000:0000:0000:0000:0000:0000:0000:0000", "::" },
		/* Already canonical (Linux agents, Rust's Display): unchanged. */
		{ "fe80::216:3eff:fe01:2345", "fe80::216:3eff:fe01:2345" },
		{ "::1", "::1" },
		/* Upper case; the longest run of zeros, the first of two equal ones. */
		{ "FE80::A872:13FF:FEEC:4A11", "fe80::a872:13ff:feec:4a11" },
		{ "2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },	/* one zero group stays */
		{ "0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1" },	/* IPv4-mapped */
		/* Not an address inet_pton() takes: as written. */
		{ "fe80::1%eth0", "fe80::1%eth0" },
		{ "2001:db8::1/64", "2001:db8::1/64" },
		{ " fe80::1", " fe80::1" },
		{ "fe80:::1", "fe80:::1" },
		{ "10.0.0.1", "10.0.0.1" },
		{ "", "" },
		{ "fe80:0000:0000:0000:a872:13ff:feec:4a11:0000:0000", "fe80:0000:0000:0000:a872:13ff:feec:4a11:0000:0000" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Both layouts, and the legacy one with its own vif id. */
		const struct kv kv[] = {
			{ "attr/vif/0/ipv6/0", cases[i].written, 0 },
			{ "attr/eth1/ipv6/0/addr", cases[i].written, 0 },
		};
		struct guest_metrics m;

		compute_cfg(&m, kv, 1, NULL);
		expect(&m.networks, "0/ipv6/0", cases[i].published);
		metrics_free(&m);
		compute_cfg(&m, kv + 1, 1, NULL);
		expect(&m.networks, "1/ipv6/0", cases[i].published);
		metrics_free(&m);
	}
}

static void test_networks_ipv6_binary(void **state)
{
	/* A NUL after a valid address: not an address, kept byte for byte. */
	static const struct kv kv[] = {
		KV("attr/vif/0/ipv6/0", "fe80::1\0junk"),
	};
	struct guest_metrics m;
	const struct gm_pair *p;

	COMPUTE(&m, kv);
	p = gm_map_find(&m.networks, "0/ipv6/0", 8);
	assert_non_null(p);
	assert_int_equal(p->value_len, 12);
	assert_memory_equal(p->value, "fe80::1\0junk", 12);
	metrics_free(&m);
}

static void test_memory(void **state)
{
	static const struct {
		const char *value;
		long long expect;
	} cases[] = {
		{ "2097152", 2097152 },
		{ " 1024\n", 1024 },
		{ "0", 0 },
		{ "", GM_ABSENT },		/* the Windows agent's transient empty write */
		{ "abc", GM_ABSENT },
		{ "-1", GM_ABSENT },
		{ "12 kB", GM_ABSENT },
		{ "1.5", GM_ABSENT },
		{ "99999999999999999999", GM_ABSENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kv kv[2] = {
			{ "data/meminfo_total", cases[i].value, 0 },
			{ "data/meminfo_free", "512", 0 },
		};
		struct keyset *ks = keyset_new(NULL);
		struct guest_metrics m;

		for (int k = 0; k < 2; k++)
			assert_true(keyset_set(ks, kv[k].path, kv[k].value, strlen(kv[k].value)) >= 0);
		assert_int_equal(metrics_compute(&m, ks, NULL, &no_clock), 0);
		assert_int_equal(m.memory.total_kib, cases[i].expect);
		assert_int_equal(m.memory.free_kib, 512);
		metrics_free(&m);
		keyset_free(ks);
	}
}

static void test_memory_nul(void **state)
{
	static const struct kv kv[] = {
		KV("data/meminfo_free", "10\0" "24"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	assert_int_equal(m.memory.free_kib, GM_ABSENT);
	assert_int_equal(m.memory.total_kib, GM_ABSENT);
	metrics_free(&m);
}

static void test_disks(void **state)
{
	static const struct kv kv[] = {
		KV("data/volumes/0", ""),
		KV("data/volumes/0/name", "/dev/xvda1(0b2c...)"),
		KV("data/volumes/0/size", "10737418240"),
		KV("data/volumes/0/free", "5368709120"),
		KV("data/volumes/0/filesystem", "ext4"),
		KV("data/volumes/0/mount_points/0", "/"),
		KV("data/volumes/0/extents/0", "xvda"),
		KV("data/volumes/1/volume_name", "C\xc3\xa9"),
		KV("data/volumesX/0/name", "not a volume"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.disks, "0/name", "/dev/xvda1(0b2c...)");
	expect(&m.disks, "0/size", "10737418240");
	expect(&m.disks, "0/free", "5368709120");
	expect(&m.disks, "0/filesystem", "ext4");
	expect(&m.disks, "0/mount_points/0", "/");
	expect(&m.disks, "0/extents/0", "xvda");
	expect(&m.disks, "1/volume_name", "C\xc3\xa9");
	expect_none(&m.disks, "0");
	assert_int_equal(m.disks.count, 7);
	metrics_free(&m);
}

static void test_other(void **state)
{
	static const struct kv kv[] = {
		KV("control/feature-poweroff", "1"),
		KV("control/feature-reboot", ""),	/* xenagent stopped: as written */
		KV("control/feature-suspend", "1"),
		KV("control/feature-static-ip-setting", "1"),
		KV("control/snapshot/status", "x"),	/* not a leaf of control/ */
		KV("data/ts", "1"),
		KV("data/tsx", "1"),
	};
	static const struct kv kv2[] = {
		KV("control/feature-suspend", "1"),
		KV("control/feature-balloon", "1"),
		KV("data/cant_suspend_reason", "PCI passthrough"),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	expect(&m.other, "feature-poweroff", "1");
	expect(&m.other, "feature-reboot", "");
	expect(&m.other, "feature-suspend", "1");
	expect(&m.other, "feature-static-ip-setting", "1");
	expect(&m.other, "data-ts", "1");
	expect_none(&m.other, "snapshot/status");
	expect_none(&m.other, "snapshot");
	assert_int_equal(m.other.count, 5);
	metrics_free(&m);

	COMPUTE(&m, kv2);
	expect_none(&m.other, "feature-suspend");
	expect(&m.other, "data-cant-suspend-reason", "PCI passthrough");
	expect(&m.other, "feature-balloon", "1");
	assert_int_equal(m.other.count, 2);
	metrics_free(&m);
}

static void test_hotplug(void **state)
{
	static const struct kv kv[] = {
		KV("feature/hotplug/vbd", "1"),
		KV("feature/hotplug/vif", "0"),
	};
	static const struct kv kv2[] = {
		KV("feature/hotplug/vbd", "yes"),
		KV("feature/hotplug/vif", "1 "),
	};
	struct guest_metrics m;

	COMPUTE(&m, kv);
	assert_int_equal(m.can_use_hotplug_vbd, GM_HOTPLUG_YES);
	assert_int_equal(m.can_use_hotplug_vif, GM_HOTPLUG_NO);
	assert_string_equal(metrics_hotplug_name(m.can_use_hotplug_vbd), "yes");
	assert_string_equal(metrics_hotplug_name(m.can_use_hotplug_vif), "no");
	metrics_free(&m);
	COMPUTE(&m, kv2);
	assert_int_equal(m.can_use_hotplug_vbd, GM_HOTPLUG_UNSPECIFIED);
	assert_int_equal(m.can_use_hotplug_vif, GM_HOTPLUG_UNSPECIFIED);
	assert_string_equal(metrics_hotplug_name(m.can_use_hotplug_vif), "unspecified");
	metrics_free(&m);
}

static void test_live(void **state)
{
	static const struct {
		long long now, last_write, timeout;
		bool live;
	} cases[] = {
		{ 1000, GM_ABSENT, 300, false },
		{ 1000, 1000, 300, true },
		{ 1000, 700, 300, true },	/* exactly at the timeout */
		{ 1000, 699, 300, false },
		{ 1000, 1200, 300, true },	/* clock stepped back */
		{ 1000, 0, 300, false },	/* the epoch is a time, not "none" */
	};
	struct keyset *ks = keyset_new(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics_clock clk = {
			.now = cases[i].now, .last_write = cases[i].last_write,
			.live_timeout = cases[i].timeout,
		};
		struct guest_metrics m;

		assert_int_equal(metrics_compute(&m, ks, NULL, &clk), 0);
		assert_int_equal(m.live, cases[i].live);
		assert_int_equal(m.last_updated, cases[i].last_write);
		metrics_free(&m);
	}
	keyset_free(ks);
}

static void test_limit_reached(void **state)
{
	struct keyset_limits lim = { .max_keys = 1, .max_bytes = 1000 };
	struct keyset *ks = keyset_new(&lim);
	struct guest_metrics m;

	assert_int_equal(keyset_set(ks, "data/meminfo_free", "1", 1), KEYSET_CHANGED);
	assert_int_equal(metrics_compute(&m, ks, NULL, &no_clock), 0);
	assert_false(m.limit_reached);
	metrics_free(&m);
	assert_true(keyset_set(ks, "data/meminfo_total", "2", 1) < 0);
	assert_int_equal(metrics_compute(&m, ks, NULL, &no_clock), 0);
	assert_true(m.limit_reached);
	assert_int_equal(m.memory.free_kib, 1);	/* what fitted is still reported */
	metrics_free(&m);
	keyset_free(ks);
}

static void test_diff(void **state)
{
	static const struct kv kv[] = {
		KV("attr/PVAddons/MajorVersion", "9"),
		KV("attr/PVAddons/MinorVersion", "1"),
		KV("attr/vif/0/ipv4/0", "10.0.0.1"),
		KV("data/meminfo_free", "100"),
	};
	struct keyset *ks = make_keyset(kv, sizeof(kv) / sizeof(kv[0]));
	struct metrics_clock clk = { .now = 1000, .last_write = 990, .live_timeout = 300 };
	struct guest_metrics a, b;
	const char *names[METRICS_FIELD_COUNT];

	assert_int_equal(metrics_compute(&a, ks, NULL, &clk), 0);
	assert_int_equal(metrics_compute(&b, ks, NULL, &clk), 0);
	assert_int_equal(metrics_diff(&a, &b, names, METRICS_FIELD_COUNT), 0);

	/* Nothing published yet: everything is new, in JSON order. */
	assert_int_equal(metrics_diff(NULL, &b, names, METRICS_FIELD_COUNT), METRICS_FIELD_COUNT);
	assert_string_equal(names[0], "os_version");
	assert_string_equal(names[METRICS_FIELD_COUNT - 1], "limit_reached");
	for (int f = 0; f < METRICS_FIELD_COUNT; f++)
		assert_string_equal(names[f], metrics_field_name((enum metrics_field)f));
	assert_null(metrics_field_name(METRICS_FIELD_COUNT));
	metrics_free(&b);

	/* Same value rewritten: no difference. */
	assert_int_equal(keyset_set(ks, "attr/vif/0/ipv4/0", "10.0.0.1", 8), KEYSET_SAME);
	assert_int_equal(metrics_compute(&b, ks, NULL, &clk), 0);
	assert_int_equal(metrics_diff(&a, &b, names, METRICS_FIELD_COUNT), 0);
	metrics_free(&b);

	/* A new address and a later write. */
	assert_int_equal(keyset_set(ks, "attr/vif/0/ipv4/0", "10.0.0.2", 8), KEYSET_CHANGED);
	clk.last_write = 995;
	assert_int_equal(metrics_compute(&b, ks, NULL, &clk), 0);
	assert_int_equal(metrics_diff(&a, &b, names, METRICS_FIELD_COUNT), 2);
	assert_string_equal(names[0], "networks");
	assert_string_equal(names[1], "last_updated");
	metrics_free(&b);

	/* Versions gone: the map and both derived flags change; max bounds the writes. */
	assert_int_equal(keyset_remove_subtree(ks, "attr/PVAddons"), 2);
	clk.last_write = 990;
	assert_int_equal(metrics_compute(&b, ks, NULL, &clk), 0);
	names[1] = NULL;
	assert_int_equal(metrics_diff(&a, &b, names, 1), 4);
	assert_string_equal(names[0], "pv_drivers_version");
	assert_null(names[1]);
	assert_int_equal(metrics_diff(&a, &b, names, METRICS_FIELD_COUNT), 4);
	assert_string_equal(names[1], "pv_drivers_detected");
	assert_string_equal(names[2], "pv_drivers_up_to_date");
	assert_string_equal(names[3], "networks");
	metrics_free(&b);

	/* Memory, hotplug, liveness, limit. */
	assert_int_equal(keyset_remove_subtree(ks, ""), 2);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_true(keyset_set(ks, kv[i].path, kv[i].value, strlen(kv[i].value)) >= 0);
	assert_true(keyset_set(ks, "data/meminfo_free", "101", 3) >= 0);
	assert_true(keyset_set(ks, "feature/hotplug/vif", "1", 1) >= 0);
	clk.now = 2000;
	assert_int_equal(metrics_compute(&b, ks, NULL, &clk), 0);
	assert_int_equal(metrics_diff(&a, &b, names, METRICS_FIELD_COUNT), 3);
	assert_string_equal(names[0], "memory");
	assert_string_equal(names[1], "can_use_hotplug_vif");
	assert_string_equal(names[2], "live");
	metrics_free(&b);

	metrics_free(&a);
	keyset_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_os_version),
		cmocka_unit_test(test_os_version_binary),
		cmocka_unit_test(test_pv_drivers_version),
		cmocka_unit_test(test_up_to_date_truth_table),
		cmocka_unit_test(test_networks_vif),
		cmocka_unit_test(test_networks_legacy),
		cmocka_unit_test(test_networks_both_layouts),
		cmocka_unit_test(test_networks_legacy_duplicate_names),
		cmocka_unit_test(test_networks_ipv6_spelling),
		cmocka_unit_test(test_networks_ipv6_binary),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_memory_nul),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_other),
		cmocka_unit_test(test_hotplug),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_limit_reached),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
