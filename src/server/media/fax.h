/*
 * A T.30 fax terminal on a call leg (calling.send_fax, calling.receive_fax):
 * spandsp's fax modem over the leg's 8 kHz audio, no ECM, no T.38. Like
 * media/echo.h it is one object that is both a sink on the session (what
 * the peer sends goes to fax_rx) and the source of a media player on it
 * (fax_tx is what relayd sends); both run on the session's media thread,
 * receive before send within a tick, so the modem needs no lock.
 *
 * T.30's own timers (T1, T2...) bound a fax with a peer that is not one;
 * they run on received samples, so a tick that brought no frame feeds the
 * receiver silence (fax_rx_fillin) to keep them running.
 *
 * When T.30 reaches phase E the result is kept and the source ends (the
 * player finishes). Holders: the session (sink, until on_detach) and the
 * player (source, until destroyed); when both have let go the modem is
 * freed, which closes the TIFF, and `closed` is called (on whichever
 * thread let go last). The core then reads the result and frees the object
 * with media_fax_free.
 */
#ifndef RELAYD_MEDIA_FAX_H
#define RELAYD_MEDIA_FAX_H

#include "media/session.h"
#include "media/source.h"

typedef struct media_fax media_fax;

typedef struct media_fax_result {
    int code;               /* spandsp's T.30 completion code (T30_ERR_*) */
    const char *text;       /* static: spandsp's words for it */
    int pages;              /* pages sent or received */
    char remote_ident[24];  /* the peer's TSI/CSI, "" if none */
} media_fax_result;

typedef void (*media_fax_closed)(media_fax *f, void *user);
/* A page was sent or received (T.30 phase D), on the media thread:
 * media_fax_pages() tells how many so far. */
typedef void (*media_fax_page)(media_fax *f, void *user);

/* sending: 1 transmits `file` (a TIFF/F), 0 receives into `file`. ident
 * (≤ 20 printable chars) and header (≤ 50) may be NULL, and so may page.
 * NULL with *why (static) on failure. */
media_fax *media_fax_new(int sending, const char *file, const char *ident, const char *header,
                         media_fax_closed closed, media_fax_page page, void *user,
                         const char **why);
/* Pages sent or received so far (any thread). */
int media_fax_pages(media_fax *f);
media_sink *media_fax_sink(media_fax *f);
media_source *media_fax_source(media_fax *f);
/* 1 and *out when T.30 has reached phase E (any thread); else 0. */
int media_fax_result_get(media_fax *f, media_fax_result *out);
/* After `closed`: frees the object. */
void media_fax_free(media_fax *f);

#endif
