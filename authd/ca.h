/* ca.h - authd's TLS key holder (ca.c), for authd.c's tables. */
#ifndef RM_AUTHD_CA_H
#define RM_AUTHD_CA_H

#include "link.h"

void	ca_preload(void);
void	ca_key(struct link *, struct msg *);	/* M_TLS_KEY from master */
void	ca_peer(int peer, int fd);		/* a PEER_F_CA socket */

#endif
