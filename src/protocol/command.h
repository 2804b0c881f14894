/*
 * Client commands: one line of untrusted client bytes parsed into a typed
 * struct command, or into an error (class + text) to send back. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <xgm/protocol.h>

enum command_kind {
	COMMAND_PING,
	COMMAND_SUBSCRIBE,
	COMMAND_UNSUBSCRIBE,
	COMMAND_GET,
	COMMAND_LIST,
	COMMAND_STATS,
};

/* The "id" a client gave, echoed verbatim in every reply and error. */
enum command_id_type {
	COMMAND_ID_NULL,	/* absent (or unusable): replies carry "id":null */
	COMMAND_ID_INT,
	COMMAND_ID_STRING,
};

struct command_id {
	enum command_id_type type;
	long long num;		/* COMMAND_ID_INT */
	/*
	 * INT and STRING: the id's JSON text exactly as the client wrote it
	 * (a string with its quotes and escapes), malloc'd; NUL-free, valid
	 * UTF-8 and valid JSON, since the whole line parsed.
	 */
	char *text;
	size_t len;
};

/* Which published events a subscriber receives. */
struct command_filter {
	bool all_domains;	/* "domains" absent */
	unsigned int *domains;	/* else: sorted, unique, malloc'd; n_domains may be 0 (none) */
	size_t n_domains;
	unsigned int events;	/* mask of enum xgm_event; "events" absent: XGM_EVENT_ALL */
};

struct command {
	enum command_kind kind;
	struct command_id id;
	struct command_filter filter;	/* COMMAND_SUBSCRIBE */
	bool snapshot;			/* COMMAND_SUBSCRIBE; default true */
	unsigned int domid;		/* COMMAND_GET */
};

enum command_error_class {
	COMMAND_ERROR_PARSE,		/* XGM_ERROR_PARSE ... in the same order as protocol.h */
	COMMAND_ERROR_INVALID_COMMAND,
	COMMAND_ERROR_UNKNOWN_COMMAND,
	COMMAND_ERROR_INVALID_ARGUMENT,
	COMMAND_ERROR_NOT_FOUND,
	COMMAND_ERROR_LINE_TOO_LONG,
	COMMAND_ERROR_TOO_MANY_CLIENTS,
	COMMAND_ERROR_INTERNAL,
};

/* The wire name of an error class ("ParseError", ...). */
const char *command_error_class_name(enum command_error_class cls);

struct command_error {
	enum command_error_class cls;
	char desc[160];		/* may quote client bytes: encode it with jsonw */
};

/* Deepest nesting of arrays and objects a line may have (ours need 3). */
#define COMMAND_MAX_DEPTH 16

/*
 * Parses line[0..len) (no newline; any bytes). Returns 0 and a command, or
 * -EINVAL and *err, or -ENOMEM. Either way *cmd is set (on -EINVAL it holds
 * the id when one could be read, so the error can echo it) and must be
 * released with command_release().
 */
int command_parse(const char *line, size_t len, struct command *cmd, struct command_error *err);

/* Frees what *cmd owns and zeroes it; safe on a zeroed or released command. */
void command_release(struct command *cmd);

/* Frees what *f owns and makes it match everything. */
void command_filter_release(struct command_filter *f);

/* Moves *from into *to (releasing what *to held); *from then matches everything. */
void command_filter_move(struct command_filter *to, struct command_filter *from);

/* Whether the filter selects domain domid (for snapshots, which ignore "events"). */
bool command_filter_match_domain(const struct command_filter *f, unsigned int domid);

/* Whether a published event of this kind about domid passes the filter. */
bool command_filter_match(const struct command_filter *f, unsigned int domid, enum xgm_event kind);
