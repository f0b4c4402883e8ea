/*
 * relay_visitors.c - visitors counted per source address, so that one
 * address cannot take every stream of the relay
 * (tunnel.relay.visitors_per_address; 0: no limit).  An IPv6 visitor
 * counts by its /64 (lib/util addr_count_key), as authd counts logins.
 * Addresses are kept as keyed hashes in chains, an entry only while it
 * has visitors: memory follows the streams open, and a visitor cannot pick
 * the chain it lands in.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "keyhash.h"
#include "log.h"
#include "relay.h"
#include "util.h"

#define VISIT_BUCKETS	1024
#define REFUSED_LOG_MS	10000	/* at most one line in this, with a count */

struct vaddr {
	struct vaddr	*next;
	unsigned char	 mac[KEYHASH_LEN];
	unsigned	 n;		/* visitors open */
};

static struct vaddr *buckets[VISIT_BUCKETS];
uint64_t relay_visitors_refused;

/* The visitor's address without its port ("unknown" if none). */
static void
visitor_host(const struct sockaddr_storage *ss, char host[INET6_ADDRSTRLEN])
{
	const void *p = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if ((ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    inet_ntop(ss->ss_family, p, host, INET6_ADDRSTRLEN) == NULL)
		str_copy(host, "unknown", INET6_ADDRSTRLEN);
}

static struct vaddr **
chain_of(const unsigned char mac[KEYHASH_LEN])
{
	uint32_t h;

	memcpy(&h, mac, sizeof(h));
	return &buckets[h % VISIT_BUCKETS];
}

/* Said once, then at most every REFUSED_LOG_MS with how many since. */
static void
refused_log(const char *key, unsigned max)
{
	static uint64_t logged_ms, unsaid;
	uint64_t now = now_ms();

	relay_visitors_refused++;
	if (logged_ms != 0 && now - logged_ms < REFUSED_LOG_MS) {
		unsaid++;
		return;
	}
	log_warnx("visitor from %s refused: %u open from this address "
	    "already (tunnel.relay.visitors_per_address); %llu more refused "
	    "since the last such line", key, max, (unsigned long long)unsaid);
	logged_ms = now;
	unsaid = 0;
}

struct vaddr *
visitors_admit(const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	unsigned char mac[KEYHASH_LEN];
	unsigned max = (unsigned)conf_int(P_TUNNEL_RELAY_VISITORS_ADDR);
	const char *key;
	struct vaddr **pp, *v;

	visitor_host(ss, host);
	key = addr_count_key(host, net);
	keyhash(mac, 2, (const char *const[]){ "visitor", key });
	pp = chain_of(mac);
	for (v = *pp; v != NULL; v = v->next)
		if (memcmp(v->mac, mac, KEYHASH_LEN) == 0)
			break;
	if (v != NULL && max != 0 && v->n >= max) {
		refused_log(key, max);
		return NULL;
	}
	if (v == NULL) {
		v = xcalloc(1, sizeof(*v));
		memcpy(v->mac, mac, KEYHASH_LEN);
		v->next = *pp;
		*pp = v;
	}
	v->n++;
	return v;
}

void
visitors_leave(struct vaddr *v)
{
	struct vaddr **pp;

	if (--v->n > 0)
		return;
	for (pp = chain_of(v->mac); *pp != v; pp = &(*pp)->next)
		if (*pp == NULL)
			fatalx("visitor address not in its chain");
	*pp = v->next;
	free(v);
}
