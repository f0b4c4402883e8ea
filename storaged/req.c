/*
 * req.c - request helpers shared by storaged's handlers: input validation
 * that answers the client-caused error itself, and reply builders (bodies
 * beyond what fits in a frame travel as a sealed memfd).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "oci.h"
#include "regerr.h"
#include "storaged.h"
#include "util.h"

/* The repository name in attr; NAME_INVALID answered if it is not one. */
int
req_repo(struct link *l, const struct msg *m, int attr, const char **out)
{
	const char *s = msg_str(m, attr);

	if (s == NULL || !oci_name_valid(s)) {
		link_reply_err(l, m->id, RE_NAME_INVALID, NULL);
		return -1;
	}
	*out = s;
	return 0;
}

/* The digest in attr; DIGEST_INVALID or UNSUPPORTED answered if bad. */
int
req_digest(struct link *l, const struct msg *m, int attr, struct digest *d)
{
	const char *s = msg_str(m, attr);
	int rc;

	if (s == NULL || (rc = digest_parse(s, d)) == -1) {
		link_reply_err(l, m->id, RE_DIGEST_INVALID, "invalid digest");
		return -1;
	}
	if (rc == -2) {
		link_reply_err(l, m->id, RE_UNSUPPORTED,
		    "unsupported digest algorithm");
		return -1;
	}
	return 0;
}

/* M_BLOB{digest, size[, fd]}; fd is taken when not -1. */
void
reply_blob(struct link *l, uint32_t id, const struct digest *d,
    uint64_t size, int fd)
{
	char s[DIGEST_STRMAX];
	struct msgb mb;

	if (digest_format(d, s, sizeof(s)) == -1)
		fatalx("digest does not format");
	msgb_init(&mb, M_BLOB);
	msgb_str(&mb, A_DIGEST, s);
	msgb_u64(&mb, A_SIZE, size);
	if (fd != -1)
		msgb_fd(&mb, A_FD, fd);
	link_reply(l, id, &mb);
}

/* M_LIST{body[, last]} taking body; beyond INLINE_MAX as a memfd with
 * A_SIZE and an empty A_BODY.  NULL body: a name was not valid UTF-8. */
void
reply_list(struct link *l, uint32_t id, char *body, const char *last)
{
	struct msgb mb;
	size_t len;
	int fd;

	if (body == NULL) {
		reply_internal(l, id, "list not representable as JSON");
		return;
	}
	len = strlen(body);
	msgb_init(&mb, M_LIST);
	if (len <= INLINE_MAX)
		msgb_bytes(&mb, A_BODY, body, len);
	else if ((fd = memfd_with("list", body, len)) != -1) {
		msgb_bytes(&mb, A_BODY, "", 0);
		msgb_fd(&mb, A_FD, fd);
		msgb_u64(&mb, A_SIZE, len);
	} else {
		msgb_free(&mb);
		free(body);
		reply_internal(l, id, "memfd");
		return;
	}
	if (last != NULL)
		msgb_str(&mb, A_LAST, last);
	free(body);
	link_reply(l, id, &mb);
}

/* Log a failure of ours (errno) and answer UNKNOWN/500. */
void
reply_internal(struct link *l, uint32_t id, const char *what)
{
	log_warn("%s", what);
	link_reply_err(l, id, RE_INTERNAL, what);
}
