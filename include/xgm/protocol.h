/*
 * The xgmd event-socket protocol, version 1: names and limits shared by the
 * daemon and its clients (xgmctl). The protocol itself is in docs/protocol.md.
 */
#pragma once

#include <stddef.h>
#include <string.h>

#define XGM_PROTOCOL_VERSION 1
#define XGM_SERVER_NAME "xgmd"
#define XGM_DEFAULT_SOCKET "/run/xgm/xgmd.sock"
/* The environment variable clients read the socket path from. */
#define XGM_SOCKET_ENV "XGM_SOCKET"

/* Event kinds, as bits so that a subscription filter is one mask. */
enum xgm_event {
	XGM_EVENT_DOMAIN_NEW = 1u << 0,		/* "domain.new" */
	XGM_EVENT_DOMAIN_METRICS = 1u << 1,	/* "domain.metrics" */
	XGM_EVENT_DOMAIN_GONE = 1u << 2,	/* "domain.gone" */
	XGM_EVENT_DOMAIN_SNAPSHOT = 1u << 3,	/* "domain.snapshot" */
};
#define XGM_EVENT_ALL 0xfu

/* Longest line a client may send; a longer one is an error and a close. */
#define XGM_MAX_CLIENT_LINE 65536

/* Highest ordinary Xen domain id (DOMID_FIRST_RESERVED - 1); larger ids are invalid arguments. */
#define XGM_DOMID_MAX 0x7fefu

/* Message "type" values the server sends. */
#define XGM_TYPE_HELLO "hello"
#define XGM_TYPE_REPLY "reply"
#define XGM_TYPE_ERROR "error"
#define XGM_TYPE_EVENT "event"
#define XGM_TYPE_SNAPSHOT_END "snapshot-end"
#define XGM_TYPE_LOST "lost"
#define XGM_TYPE_BYE "bye"

/* Error classes: stable names for machines; "desc" is for humans only. */
#define XGM_ERROR_PARSE "ParseError"			/* not JSON, NUL bytes, nested too deep */
#define XGM_ERROR_INVALID_COMMAND "InvalidCommand"	/* not an object, no "cmd", duplicate keys */
#define XGM_ERROR_UNKNOWN_COMMAND "UnknownCommand"
#define XGM_ERROR_INVALID_ARGUMENT "InvalidArgument"	/* wrong type, out of range, unknown key */
#define XGM_ERROR_NOT_FOUND "NotFound"			/* no such domain */
#define XGM_ERROR_LINE_TOO_LONG "LineTooLong"		/* then the server closes */
#define XGM_ERROR_TOO_MANY_CLIENTS "TooManyClients"	/* then the server closes */
#define XGM_ERROR_INTERNAL "InternalError"

/* The wire name of one event kind ("domain.new", ...), or NULL for anything else. */
static inline const char *xgm_event_name(enum xgm_event e)
{
	switch (e) {
	case XGM_EVENT_DOMAIN_NEW:
		return "domain.new";
	case XGM_EVENT_DOMAIN_METRICS:
		return "domain.metrics";
	case XGM_EVENT_DOMAIN_GONE:
		return "domain.gone";
	case XGM_EVENT_DOMAIN_SNAPSHOT:
		return "domain.snapshot";
	}
	return NULL;
}

/* The event kind named s[0..len), or 0 when there is none. */
static inline unsigned int xgm_event_from_name(const char *s, size_t len)
{
	for (unsigned int bit = 1; bit & XGM_EVENT_ALL; bit <<= 1) {
		const char *name = xgm_event_name((enum xgm_event)bit);

		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return bit;
	}
	return 0;
}
