/* msg.c - encode and strictly decode protocol frames against msgtypes.h. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "util.h"

static void
msgb_field(struct msgb *mb, int attr, enum msg_kind kind, const void *p,
    size_t len)
{
	const struct msg_def *d = &msg_defs[mb->type];
	uint16_t a = (uint16_t)attr;
	uint32_t l = (uint32_t)len;
	int i;

	if (attr <= A_NONE || attr >= A_MAX || msg_attr_defs[attr].kind != kind)
		fatalx("%s: bad attribute %d", d->name, attr);
	for (i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++)
		if (d->fields[i].attr == attr)
			break;
	if (i == MSG_MAXFIELDS || d->fields[i].attr == 0)
		fatalx("%s does not carry %s", d->name,
		    msg_attr_defs[attr].name);
	if (mb->seen & (UINT64_C(1) << attr))
		fatalx("%s: %s twice", d->name, msg_attr_defs[attr].name);
	if (kind != MK_FD && kind != MK_U64 && len > msg_attr_defs[attr].max)
		fatalx("%s: %s too long (%zu)", d->name,
		    msg_attr_defs[attr].name, len);
	mb->seen |= UINT64_C(1) << attr;
	buf_append(&mb->b, &a, sizeof(a));
	buf_append(&mb->b, &l, sizeof(l));
	buf_append(&mb->b, p, len);
}

/* Start a message of the given type; the header is filled by msgb_finish. */
void
msgb_init(struct msgb *mb, int type)
{
	static const char zero[MSG_HDRLEN];

	if (type <= M_INVALID || type >= M_MAX)
		fatalx("bad message type %d", type);
	buf_init(&mb->b);
	mb->type = (uint16_t)type;
	mb->nfds = 0;
	mb->seen = 0;
	buf_append(&mb->b, zero, sizeof(zero));
}

void
msgb_u64(struct msgb *mb, int attr, uint64_t v)
{
	msgb_field(mb, attr, MK_U64, &v, sizeof(v));
}

void
msgb_str(struct msgb *mb, int attr, const char *s)
{
	msgb_field(mb, attr, MK_STR, s, strlen(s) + 1);
}

void
msgb_bytes(struct msgb *mb, int attr, const void *p, size_t len)
{
	msgb_field(mb, attr, MK_BYTES, p, len);
}

void
msgb_fd(struct msgb *mb, int attr, int fd)
{
	if (fd < 0 || mb->nfds == MSG_MAXFDS)
		fatalx("bad descriptor %d or too many", fd);
	msgb_field(mb, attr, MK_FD, NULL, 0);
	mb->fds[mb->nfds++] = fd;
}

/* Release the buffer and close descriptors that were never sent. */
void
msgb_free(struct msgb *mb)
{
	for (int i = 0; i < mb->nfds; i++)
		close(mb->fds[i]);
	mb->nfds = 0;
	buf_free(&mb->b);
}

void
msgb_finish(struct msgb *mb, uint32_t id, uint16_t flags)
{
	const struct msg_def *d = &msg_defs[mb->type];
	uint32_t len = (uint32_t)mb->b.len;

	for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++)
		if (d->fields[i].required &&
		    !(mb->seen & (UINT64_C(1) << d->fields[i].attr)))
			fatalx("%s without %s", d->name,
			    msg_attr_defs[d->fields[i].attr].name);
	if (mb->b.len > MSG_MAXFRAME)
		fatalx("%s: frame too large (%zu)", d->name, mb->b.len);
	memcpy(mb->b.data, &len, 4);
	memcpy(mb->b.data + 4, &mb->type, 2);
	memcpy(mb->b.data + 6, &flags, 2);
	memcpy(mb->b.data + 8, &id, 4);
}

static const struct msg_field_def *
msg_field_lookup(const struct msg_def *d, int attr)
{
	for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++)
		if (d->fields[i].attr == attr)
			return &d->fields[i];
	return NULL;
}

static int
msg_decode_field(struct msg *m, const struct msg_def *d, int attr,
    const uint8_t *p, uint32_t len, int *fdi, int nfds, const char **err)
{
	const struct msg_attr_def *ad;

	if (attr <= A_NONE || attr >= A_MAX || !msg_field_lookup(d, attr))
		return *err = "attribute not allowed in this type", -1;
	if (m->v[attr].present)
		return *err = "duplicate attribute", -1;
	ad = &msg_attr_defs[attr];
	switch (ad->kind) {
	case MK_U64:
		if (len != 8)
			return *err = "bad integer length", -1;
		memcpy(&m->v[attr].u, p, 8);
		break;
	case MK_STR:
		if (len == 0 || len - 1 > ad->max || p[len - 1] != '\0' ||
		    memchr(p, '\0', len - 1) != NULL)
			return *err = "bad string", -1;
		m->v[attr].p = (const char *)p;
		m->v[attr].len = len - 1;
		break;
	case MK_BYTES:
		if (len > ad->max)
			return *err = "bytes too long", -1;
		m->v[attr].p = (const char *)p;
		m->v[attr].len = len;
		break;
	case MK_FD:
		if (len != 0 || *fdi >= nfds)
			return *err = "descriptor field without descriptor", -1;
		m->v[attr].u = (uint64_t)(*fdi)++;
		break;
	}
	m->v[attr].present = 1;
	return 0;
}

/* Decode a frame strictly: known type, allowed fields once, required present,
 * each descriptor claimed by exactly one field. */
int
msg_decode(const void *frame, size_t len, const int *fds, int nfds,
    struct msg *m, const char **err)
{
	const uint8_t *p = frame;
	const struct msg_def *d;
	uint32_t flen;
	size_t off;
	int fdi = 0;

	memset(m, 0, sizeof(*m));
	if (len < MSG_HDRLEN || len > MSG_MAXFRAME)
		return *err = "bad frame size", -1;
	memcpy(&flen, p, 4);
	memcpy(&m->type, p + 4, 2);
	memcpy(&m->flags, p + 6, 2);
	memcpy(&m->id, p + 8, 4);
	if (flen != len)
		return *err = "length mismatch", -1;
	if (m->type <= M_INVALID || m->type >= M_MAX)
		return *err = "unknown type", -1;
	if (m->flags & ~MSG_F_REPLY)
		return *err = "unknown flags", -1;
	if (nfds < 0 || nfds > MSG_MAXFDS)
		return *err = "too many descriptors", -1;
	d = &msg_defs[m->type];
	if (((m->flags & MSG_F_REPLY) != 0) != (d->is_reply != 0))
		return *err = "reply flag does not match type", -1;
	for (off = MSG_HDRLEN; off < len;) {
		uint16_t attr;
		uint32_t alen;
		if (len - off < MSG_FIELDHDR)
			return *err = "truncated field header", -1;
		memcpy(&attr, p + off, 2);
		memcpy(&alen, p + off + 2, 4);
		off += MSG_FIELDHDR;
		if (alen > len - off)
			return *err = "truncated field", -1;
		if (msg_decode_field(m, d, attr, p + off, alen, &fdi, nfds,
		    err) == -1)
			return -1;
		off += alen;
	}
	if (fdi != nfds)
		return *err = "unclaimed descriptor", -1;
	for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++)
		if (d->fields[i].required && !m->v[d->fields[i].attr].present)
			return *err = "required attribute missing", -1;
	for (int i = 0; i < nfds; i++)
		m->fds[i] = fds[i];
	m->nfds = nfds;
	return 0;
}

const char *
msg_str(const struct msg *m, int attr)
{
	if (attr <= A_NONE || attr >= A_MAX || !m->v[attr].present ||
	    msg_attr_defs[attr].kind != MK_STR)
		return NULL;
	return m->v[attr].p;
}

uint64_t
msg_u64(const struct msg *m, int attr, uint64_t dflt)
{
	if (attr <= A_NONE || attr >= A_MAX || !m->v[attr].present ||
	    msg_attr_defs[attr].kind != MK_U64)
		return dflt;
	return m->v[attr].u;
}

int
msg_has(const struct msg *m, int attr)
{
	return attr > A_NONE && attr < A_MAX && m->v[attr].present;
}

/* Take ownership of the descriptor carried in attr. */
int
msg_take_fd(struct msg *m, int attr)
{
	int fd, i;

	if (!msg_has(m, attr) || msg_attr_defs[attr].kind != MK_FD)
		return -1;
	i = (int)m->v[attr].u;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd;
}

void
msg_close_fds(struct msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] != -1)
			close(m->fds[i]);
	m->nfds = 0;
}

const char *
msg_type_name(int type)
{
	if (type <= M_INVALID || type >= M_MAX)
		return "unknown";
	return msg_defs[type].name;
}

/* Room for the most descriptors one frame carries, aligned for cmsghdr. */
union msg_cmsg {
	struct cmsghdr	hdr;
	char		buf[CMSG_SPACE(sizeof(int) * MSG_MAXFDS)];
};

ssize_t
msg_sendfd(int fd, const void *frame, size_t len, const int *fds, int nfds)
{
	union msg_cmsg cm;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;

	if (nfds < 0 || nfds > MSG_MAXFDS)
		fatalx("%d descriptors in one frame", nfds);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)frame;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
msg_recvfd(int fd, void *buf, size_t len, int *fds, int *nfds, int *broken)
{
	union msg_cmsg cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	*broken = 0;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int d;
			memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < MSG_MAXFDS)
				fds[(*nfds)++] = d;
			else {
				close(d);
				*broken = 1;
			}
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		*broken = 1;
	return n;
}

int
msg_wait_reply(int fd, uint32_t id, uint64_t timeout_ms, char *frame,
    struct msg *m)
{
	uint64_t deadline = now_ms() + timeout_ms, now;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const char *err;
	int fds[MSG_MAXFDS], nfds, broken;
	ssize_t n;

	while ((now = now_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;	/* EINTR, or the deadline: the loop says */
		n = msg_recvfd(fd, frame, MSG_MAXFRAME, fds, &nfds, &broken);
		if (n <= 0)
			return -1;	/* the peer went away */
		if (broken || msg_decode(frame, (size_t)n, fds, nfds, m,
		    &err) == -1) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			return -1;
		}
		msg_close_fds(m);
		if ((m->flags & MSG_F_REPLY) && m->id == id)
			return 0;
	}
	return -1;
}
