/*
 * The files of one sandbox directory, shared by the hypervisor shim inside
 * xenstored and the tools outside it. One directory is one private sandbox.
 */
#pragma once

#define SANDBOX_SOCKET		"socket"	/* xenstored's UNIX socket (XENSTORED_PATH) */
#define SANDBOX_PIDFILE		"xenstored.pid"
#define SANDBOX_LOG		"xenstored.log"	/* xenstored's stdout and stderr */
#define SANDBOX_TRACE		"xenstored.trace" /* every request: -T, or oxenstored's access log */
#define SANDBOX_OXENSTORED_CONF	"oxenstored.conf"
#define SANDBOX_OXENSTORED_LOG	"oxenstored.log" /* oxenstored's own log (SANDBOX_LOG: its stderr) */
#define SANDBOX_DOMAINS		"domains"	/* the domain table (domtable.h) */
#define SANDBOX_DOMAINS_LOCK	"domains.lock"
#define SANDBOX_XSD_PORT	"xsd_port"	/* stands for /proc/xen/xsd_port */
#define SANDBOX_XSD_KVA		"xsd_kva"	/* stands for /proc/xen/xsd_kva */
#define SANDBOX_EVTCHN		"evtchn"	/* datagram socket: kicks to xenstored */
#define SANDBOX_RING_FMT	"ring-%u"	/* a guest's xenstore ring page */
#define SANDBOX_GUEST_FMT	"guest-%d"	/* datagram socket: kicks to a guest */
#define SANDBOX_GUEST_SOCKET_FMT "guest-%u.sock" /* a domain's guest socket (relay.h) */
#define SANDBOX_GUEST_RELAY_PID_FMT "guest-%u.sock.pid"
#define SANDBOX_GUEST_RELAY_LOG_FMT "guest-%u.sock.log"

/* Datagrams sent to SANDBOX_EVTCHN. */
#define SANDBOX_KICK_VIRQ	"virq"		/* VIRQ_DOM_EXC: rescan domain states */
#define SANDBOX_KICK_DOM_FMT	"dom %u"	/* the guest wrote to its ring */
#define SANDBOX_KICK_AGAIN	"again"		/* the shim to itself: more ports are pending */

#define SANDBOX_PAGE_SIZE	4096
