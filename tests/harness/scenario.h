/*
 * The scenario language of the replay harness (docs/scenarios.md): a pure
 * parser from plain text, one step a line, into a tree of steps that the
 * runner (xgm-scenario) executes against a sandbox and an xgmd.
 */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* Bounds that keep a typo from asking for gigabytes or a week of replay. */
#define SCN_FILL_MAX (1024 * 1024)	/* bytes of one fill(N,...) value */
#define SCN_REPEAT_MAX 1000000		/* iterations of one repeat block */
#define SCN_SECONDS_MAX 86400.0		/* any time or duration, in scenario seconds */
#define SCN_NEST_MAX 8			/* nested repeat/shuffle blocks */

/*
 * Where a repeat's iteration number goes in a text: "$i" (or "$j" for
 * "repeat N as j") in the source is recorded as an offset, so a "\$i"
 * written with an escape stays literal.
 */
struct scn_slot {
	size_t at;		/* offset in data */
	unsigned int depth;	/* which enclosing repeat: 0 the outermost */
};

/*
 * Bytes that may contain iteration numbers. Any bytes, NUL included; data
 * is NUL-terminated for convenience only.
 */
struct scn_text {
	char *data;
	size_t len;
	struct scn_slot *slots;	/* ascending offsets */
	size_t n_slots;
};

/* The iteration numbers of the repeats enclosing a step, outermost first. */
struct scn_iters {
	unsigned long v[SCN_NEST_MAX];
	char name[SCN_NEST_MAX];	/* each repeat's variable: 'i' unless "as X" */
	unsigned int n;
};

enum scn_op {
	SCN_OP_EQ,		/* field=value: equal, or an array containing value */
	SCN_OP_NE,		/* field!=value */
	SCN_OP_MATCH,		/* field~regex (POSIX extended, unanchored) */
	SCN_OP_PRESENT,		/* field=* */
	SCN_OP_ABSENT,		/* !field */
	SCN_OP_GE,		/* field>=N, and the others: numbers only */
	SCN_OP_GT,
	SCN_OP_LE,
	SCN_OP_LT,
};

/*
 * One condition on a JSON object as written, addressed by a dotted path
 * ("data.memory.free_kib"); its field and value may hold iteration numbers,
 * so it is bound (scn_match_bind) before each evaluation.
 */
struct scn_match {
	struct scn_text field;
	enum scn_op op;
	struct scn_text value;	/* decoded (data NULL for PRESENT, ABSENT) */
	bool literal;		/* unquoted true/false/null: only that JSON literal matches */
	char *source;		/* the token as written, for reports */
};

/* A condition with its iteration numbers filled in, ready to evaluate (match.h). */
struct scn_cond {
	char *field;
	enum scn_op op;
	char *value;		/* NUL-terminated, may hold NULs (NULL for PRESENT, ABSENT) */
	size_t value_len;
	bool literal;
	double number;		/* for the ordering operators */
	regex_t re;		/* for SCN_OP_MATCH */
	const char *source;	/* the match's */
};

enum scn_kind {
	SCN_AT,			/* at T: wait until T scenario seconds after the start */
	SCN_AFTER,		/* after D: wait D scenario seconds */
	SCN_NOTE,		/* note TEXT (the rest of the line): printed with --verbose and in reports */
	SCN_CREATE,		/* create DOMID [NAME] */
	SCN_RELEASE,		/* release DOMID */
	SCN_SHUTDOWN,		/* shutdown|crash|dying DOMID: the hypervisor's state */
	SCN_CRASH,
	SCN_DYING,
	SCN_DESTROY,		/* destroy DOMID: the domain no longer exists */
	SCN_XENSTORED_STOP,	/* xenstored-stop: it exits, losing every node */
	SCN_XENSTORED_START,	/* xenstored-start: a fresh, empty one */
	SCN_WRITE,		/* write DOMID PATH VALUE: as dom0 */
	SCN_GUEST,		/* guest DOMID PATH VALUE: as the guest, over its ring */
	SCN_RM,			/* rm DOMID PATH: as dom0 */
	SCN_GUEST_RM,		/* guest-rm DOMID PATH */
	SCN_TX_BEGIN,		/* tx-begin DOMID: the guest's following writes join one transaction */
	SCN_TX_END,		/* tx-end DOMID [abort] */
	SCN_REPEAT,		/* repeat N [as X] { ... } */
	SCN_SHUFFLE,		/* shuffle { ... }: the body's steps once each, in a seeded random order */
	SCN_ON,			/* on FLAVOUR { ... }: the body, only on that xenstored (c, ocaml) */
	SCN_EXPECT,		/* expect EVENT DOMID within S [match...]: the next event about DOMID */
	SCN_WAIT_FOR,		/* wait-for EVENT DOMID within S [match...]: skips others until one matches */
	SCN_EXPECT_NONE,	/* expect-none DOMID for S */
	SCN_EXPECT_GET,		/* expect-get DOMID match...: the reply to a get command */
	SCN_EXPECT_STATS,	/* expect-stats match...: the reply to a stats command */
};

struct scn_step;

struct scn_block {
	struct scn_step *steps;
	size_t n;
};

struct scn_step {
	enum scn_kind kind;
	unsigned int line;		/* 1-based, in the scenario file */
	unsigned int domid;
	double seconds;			/* at, after, within, for */
	char *name;			/* create's NAME (may be NULL), expect's EVENT, note's text, on's FLAVOUR */
	struct scn_text path;		/* relative to /local/domain/DOMID unless it starts with '/' */
	struct scn_text value;
	bool fails;			/* write/guest/rm/guest-rm ... fails: xenstored must refuse it */
	bool abort;			/* tx-end DOMID abort */
	unsigned long count;		/* repeat */
	char var;			/* repeat: its variable's name, 'i' unless "as X" */
	struct scn_block body;		/* repeat, shuffle, on */
	struct scn_match *matches;
	size_t n_matches;
};

/* An xgmd setting from "config KEY=VALUE", passed on as --set (durations scaled). */
struct scn_setting {
	char *key;
	char *value;
	unsigned int line;
};

struct scenario {
	char *name;			/* the file name, for reports */
	struct scn_block steps;
	double timescale;		/* real seconds per scenario second; 1 unless "timescale F" */
	unsigned long seed;		/* for shuffle blocks; 1 unless "seed N" */
	struct scn_setting *settings;
	size_t n_settings;
};

#define SCN_ERROR_MAX 512

/*
 * Parses text[0..len) (any bytes). On success returns 0 and fills *out,
 * which scenario_free() releases. On failure returns -EINVAL (or -ENOMEM)
 * with error set to "NAME:LINE: what is wrong" and *out empty.
 */
int scenario_parse(const char *name, const char *text, size_t len, struct scenario *out,
		   char error[SCN_ERROR_MAX]);
/* Reads path and parses it; -errno with error set when it cannot be read. */
int scenario_load(const char *path, struct scenario *out, char error[SCN_ERROR_MAX]);
void scenario_free(struct scenario *s);

/*
 * The text with every slot replaced by its repeat's iteration number in
 * decimal; malloc'ed, NUL-terminated. it must hold as many repeats as
 * enclose the step (-EINVAL otherwise).
 */
int scn_text_expand(const struct scn_text *t, const struct scn_iters *it, char **out, size_t *len);

/*
 * m with the iteration numbers of it filled in, into *out (freed with
 * scn_cond_free). -EINVAL when the result is not what the operator needs
 * (a regex that does not compile, an ordering without a number), with
 * error saying so; -ENOMEM.
 */
int scn_match_bind(const struct scn_match *m, const struct scn_iters *it, struct scn_cond *out,
		   char error[SCN_ERROR_MAX]);
void scn_cond_free(struct scn_cond *c);

/* The step's keyword as written ("guest-rm"), for reports. */
const char *scn_kind_name(enum scn_kind kind);

/* Whether the setting key is a duration that timescale applies to (settle.quiet_ms ...). */
bool scn_setting_is_duration(const char *key);
