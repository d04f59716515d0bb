/*
 * The TIFF that calling.send_fax transmits, for documents that need work
 * before T.30 can read them: one at an http(s) URL (fetched by the media
 * fetcher, same limits as play's audio) and PDFs (converted by ghostscript
 * to a fax TIFF: 1728 pixels wide, 204x196 dpi, G4). Both run on the
 * preparation pool: a fetch or a conversion takes seconds.
 *
 * A PDF is hostile input (a client names it), and ghostscript a large
 * interpreter: it runs as a child process with -dSAFER, its own process
 * group, no inherited descriptors but /dev/null, and rlimits on CPU time,
 * memory, file size and open files; it is killed at FAX_DOC_TIMEOUT_MS or
 * when relayd shuts down.
 */
#ifndef RELAYD_MEDIA_FAX_DOC_H
#define RELAYD_MEDIA_FAX_DOC_H

#include <stddef.h>

#include "media/fetch.h"

#define FAX_DOC_TIMEOUT_MS 60000     /* one conversion, wall clock */
#define FAX_DOC_MAX_OUTPUT (64 << 20) /* the TIFF gs may write */
#define FAX_DOC_MAX_MEMORY (1UL << 30) /* gs's address space */

/* The kind of a document by its first bytes. */
typedef enum fax_doc_kind { FAX_DOC_OTHER, FAX_DOC_TIFF, FAX_DOC_PDF } fax_doc_kind;
fax_doc_kind fax_doc_kind_of(const unsigned char *head, size_t n);

/* A TIFF to send for the document: url (http/https, fetched) or, with url
 * NULL, local (a PDF already checked to lie under media_dir). On success 0
 * and the path of a temporary file in out, which the caller unlinks; else
 * -1 and a static reason in *err. Blocks: preparation pool only. */
int fax_doc_prepare(media_fetcher *f, const char *url, const char *local, char *out, size_t n,
                    const char **err);

#endif
