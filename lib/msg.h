/*
 * msg.h - the typed message protocol between regmaster's processes.
 *
 * A frame is one SOCK_SEQPACKET datagram: a 12-byte header (length, type,
 * flags, request id) then fields (attribute u16, length u32, bytes).  Strings
 * travel with their NUL, u64 in host order (both ends are one machine), and
 * descriptors as SCM_RIGHTS in the order their fields appear.
 */
#ifndef RM_MSG_H
#define RM_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "msgtypes.h"

#define MSG_HDRLEN	12
#define MSG_FIELDHDR	6
#define MSG_MAXFRAME	(128 * 1024)
#define MSG_MAXFDS	4
#define MSG_MAXFIELDS	8

#define MSG_F_REPLY	0x1

enum msg_kind { MK_U64, MK_STR, MK_BYTES, MK_FD };

#define X_ATTR(n, k, m) n,
enum msg_attr { A_NONE = 0, MSG_ATTRS(X_ATTR) A_MAX };
#undef X_ATTR

#define X_MSG(n, r, ...) n,
#define X_NONE(a)
enum msg_type { M_INVALID = 0, MSG_TYPES(X_MSG, X_NONE, X_NONE) M_MAX };
#undef X_MSG
#undef X_NONE

struct msg_field_def {
	uint16_t	attr;
	uint8_t		required;
};

struct msg_def {
	const char	*name;
	int		 is_reply;
	struct msg_field_def fields[MSG_MAXFIELDS];	/* ends at attr 0 */
};

struct msg_attr_def {
	const char	*name;
	enum msg_kind	 kind;
	uint32_t	 max;
};

extern const struct msg_def msg_defs[M_MAX];
extern const struct msg_attr_def msg_attr_defs[A_MAX];

struct msg_val {
	int		 present;
	uint64_t	 u;		/* MK_U64; fd index for MK_FD */
	const char	*p;		/* MK_STR (NUL-terminated), MK_BYTES */
	size_t		 len;		/* bytes, without the NUL for strings */
};

/* A decoded message; strings point into the receive buffer. */
struct msg {
	uint16_t	 type;
	uint16_t	 flags;
	uint32_t	 id;
	struct msg_val	 v[A_MAX];
	int		 fds[MSG_MAXFDS];
	int		 nfds;
};

/* A message being built. */
struct msgb {
	struct buf	 b;
	uint16_t	 type;
	int		 fds[MSG_MAXFDS];
	int		 nfds;
	uint64_t	 seen;		/* attribute bits already put */
};

void	 msgb_init(struct msgb *, int type);
void	 msgb_u64(struct msgb *, int attr, uint64_t);
void	 msgb_str(struct msgb *, int attr, const char *);
void	 msgb_bytes(struct msgb *, int attr, const void *, size_t);
void	 msgb_fd(struct msgb *, int attr, int fd);	/* takes the fd */
void	 msgb_free(struct msgb *);
/* Finish the frame: header with id/flags; fatal if a required field is missing. */
void	 msgb_finish(struct msgb *, uint32_t id, uint16_t flags);

/* Decode one frame; 0 ok, -1 broken (reason in err). Takes no fds on error. */
int	 msg_decode(const void *frame, size_t len, const int *fds, int nfds,
	    struct msg *, const char **err);
const char *msg_str(const struct msg *, int attr);	/* NULL if absent */
uint64_t msg_u64(const struct msg *, int attr, uint64_t dflt);
int	 msg_has(const struct msg *, int attr);
int	 msg_take_fd(struct msg *, int attr);		/* -1 if absent */
void	 msg_close_fds(struct msg *);
const char *msg_type_name(int type);

/* One frame and its descriptors over a SOCK_SEQPACKET socket.  send: the
 * bytes sent or -1 (errno).  recv: the frame length, 0 at end of file, -1
 * (errno); descriptors land in fds[MSG_MAXFDS] and *nfds; *broken is set
 * when the frame or its descriptors did not fit (extra ones are closed). */
ssize_t	 msg_sendfd(int fd, const void *frame, size_t len, const int *fds,
	    int nfds);
ssize_t	 msg_recvfd(int fd, void *buf, size_t len, int *fds, int *nfds,
	    int *broken);
/*
 * A synchronous call's answer: wait on fd for the reply to request id, at
 * most timeout_ms, and decode it into m, which points into frame
 * (MSG_MAXFRAME bytes); any descriptors it carried are closed.  0, or -1
 * when the peer went away, broke the protocol or did not answer in time.
 * Late replies to earlier requests are skipped.
 */
int	 msg_wait_reply(int fd, uint32_t id, uint64_t timeout_ms, char *frame,
	    struct msg *m);

#endif
