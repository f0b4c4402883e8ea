/*
 * audit.h - the audit log's lines: one JSON object per event, built where
 * the event is known (httpd for requests, authd for logins and tokens) and
 * appended by authd to the file master opened.  Every field is always
 * present so a reader's schema never depends on the event.
 */
#ifndef RM_AUDIT_H
#define RM_AUDIT_H

#include <stdint.h>
#include <time.h>

#include "buf.h"

#define AUDIT_LINE_MAX	4096	/* a longer record is refused, never cut */

struct audit_rec {
	const char	*addr;		/* client address */
	const char	*user;		/* NULL or "": anonymous */
	const char	*action;	/* push, pull, delete, login, login_failed,
					   token, denied */
	const char	*repo;		/* NULL: none */
	const char	*ref;		/* tag or digest asked for, NULL: none */
	const char	*digest;	/* content digest, NULL: none */
	int		 status;	/* HTTP status answered */
	uint64_t	 bytes;		/* body bytes moved */
};

/*
 * Append r as one line ("...}\n") stamped with now (RFC 3339, UTC, ms)
 * to b; -1 (b unchanged) if the line would exceed AUDIT_LINE_MAX.
 */
int	 audit_line(struct buf *b, const struct audit_rec *r,
	    const struct timespec *now);

#endif
