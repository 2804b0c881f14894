/*
 * The xgmd event-socket protocol, version 1: names and limits shared by the
 * daemon and its clients (xgmctl). The protocol itself is in docs/protocol.md.
 */
#pragma once

#define XGM_PROTOCOL_VERSION 1
#define XGM_SERVER_NAME "xgmd"
#define XGM_DEFAULT_SOCKET "/run/xgm/xgmd.sock"

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
