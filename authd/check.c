/*
 * check.c - M_AUTH_CHECK: who the client is and what it may do on the
 * repository.  authd answers with the whole grant; httpd compares it with
 * what the request wants, and may keep the answer for A_TIME seconds.
 */
#include "authd.h"

/* The answer once the client is known (or refused). */
static void
check_done(struct login *l)
{
	struct msgb mb;

	if (l->link == NULL)
		return;
	msgb_init(&mb, M_AUTH);
	switch (l->result) {
	case LOGIN_OK:
		msgb_u64(&mb, A_CODE, 0);
		if (*l->user)
			msgb_str(&mb, A_USER, l->user);
		msgb_u64(&mb, A_GRANT, rules_grant(l->user, l->repo));
		msgb_u64(&mb, A_TIME, l->ttl);
		break;
	case LOGIN_BAD:
		msgb_u64(&mb, A_CODE, 401);
		break;
	case LOGIN_LIMITED:
	case LOGIN_BUSY:
		msgb_u64(&mb, A_CODE, 429);
		msgb_u64(&mb, A_TIME, l->wait);
		break;
	}
	link_reply(l->link, l->id, &mb);
}

void
check_request(struct link *lk, struct msg *m)
{
	login_begin(lk, m, check_done, NULL);
}
