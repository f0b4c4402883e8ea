/* fuzz_msg.c - libFuzzer target for the message decoder: any bytes with any
 * descriptor count either decode into a message that re-encodes to the same
 * fields, or are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

/* Re-encode a decoded message and check the copy decodes identically. */
static void
reencode(const struct msg *m)
{
	const struct msg_def *d = &msg_defs[m->type];
	struct msgb mb;
	struct msg m2;
	const char *err;
	int nfds = 0;

	msgb_init(&mb, m->type);
	for (int i = 0; i < MSG_MAXFIELDS && d->fields[i].attr; i++) {
		int a = d->fields[i].attr;
		if (!m->v[a].present)
			continue;
		switch (msg_attr_defs[a].kind) {
		case MK_U64: msgb_u64(&mb, a, m->v[a].u); break;
		case MK_STR: msgb_str(&mb, a, m->v[a].p); break;
		case MK_BYTES: msgb_bytes(&mb, a, m->v[a].p, m->v[a].len); break;
		case MK_FD: msgb_fd(&mb, a, dup(0)); nfds++; break;
		}
	}
	msgb_finish(&mb, m->id, m->flags);
	if (msg_decode(mb.b.data, mb.b.len, mb.fds, mb.nfds, &m2, &err) != 0)
		abort();
	for (int a = 1; a < A_MAX; a++)
		if (m2.v[a].present != m->v[a].present)
			abort();
	msgb_free(&mb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[MSG_MAXFDS] = { 100, 101, 102, 103 };
	struct msg m;
	const char *err;
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (msg_decode(copy, size - 1, fds, data[0] % (MSG_MAXFDS + 1), &m,
	    &err) == 0)
		reencode(&m);
	free(copy);
	return 0;
}
