/*
 * The two halves of systemd's notify protocol xgmd uses, without
 * libsystemd: a datagram to $NOTIFY_SOCKET (READY=1, WATCHDOG=1,
 * RELOADING=1 ...), and the watchdog interval systemd asks for.
 */
#pragma once

#include <stdint.h>

/* Sends msg to $NOTIFY_SOCKET; 0 when sent or when there is no such socket, else -errno. */
int sd_notify_send(const char *msg);

/*
 * The watchdog interval in microseconds from $WATCHDOG_USEC, when it is
 * meant for this process ($WATCHDOG_PID unset or ours); 0 when there is no
 * watchdog. Pure apart from reading the environment.
 */
uint64_t sd_watchdog_usec(void);
