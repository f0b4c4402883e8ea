/*
 * cache.c - master's part of the pull-through cache (cache.upstreams):
 * httpd dials the upstreams from its chroot, so master copies the
 * resolver's files into that chroot (its own then: run_dir/httpd) and
 * opens each https upstream's CA bundle (its ca, or the system bundle)
 * for it: httpd reads the descriptor and loads every certificate at
 * once, where a hashed directory would be read lazily and fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_cache.h"
#include "log.h"
#include "master.h"
#include "msg.h"
#include "util.h"

#define SYSTEM_CA	"/etc/ssl/certs/ca-certificates.crt"

int
cache_enabled(void)
{
	return conf_str(P_CACHE_UPSTREAMS)[0] != '\0';
}

void
cache_resolver(void)
{
	if (cache_enabled() && workers[PROC_HTTPD].enabled)
		resolver_files(PROC_HTTPD);
}

void
cache_send(struct worker *w)
{
	struct cache_upstream *us;
	struct msgb mb;
	char err[256];
	const char *path;
	size_t n;
	int fd;

	if (w->id != PROC_HTTPD || w->link == NULL || !cache_enabled() ||
	    cache_upstreams_parse(conf_str(P_CACHE_UPSTREAMS), &us, &n, err,
	    sizeof(err)) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!us[i].tls)
			continue;
		path = us[i].ca[0] ? us[i].ca : SYSTEM_CA;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			log_warn("cache upstream %s: CA bundle %s", us[i].url,
			    path);
			continue;
		}
		msgb_init(&mb, M_CACHE_CA);
		msgb_u64(&mb, A_KEYID, i);
		msgb_fd(&mb, A_FD, fd);
		link_notify(w->link, &mb);
	}
	if (us != NULL)
		explicit_bzero(us, n * sizeof(*us));
	free(us);
}
