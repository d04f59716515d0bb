/*
 * systemd's readiness protocol (sd_notify(3)) for Type=notify units:
 * READY=1 once listening, RELOADING=1 / READY=1 around a SIGHUP reload,
 * STOPPING=1 at shutdown. Does nothing when NOTIFY_SOCKET is unset.
 */
#ifndef RELAYD_SD_NOTIFY_H
#define RELAYD_SD_NOTIFY_H

/* Sends one state string ("READY=1", ...). 0 sent or nothing to do, -1 on
 * a socket error (logged by the caller if it cares). */
int sd_notify_send(const char *state);

#endif
