/*
 * status_serve.c - tunneld's status page server (tunneld/status.c) on its
 * own, for test_status_page.sh: serves a fixture document until killed.
 *   status_serve PORTFILE FIXTURE.json user NAME BCRYPT-HASH
 *   status_serve PORTFILE FIXTURE.json htpasswd FILE
 * Listens on 127.0.0.1, a port the kernel picks, written to PORTFILE once
 * it serves.  The fixture is read afresh for each request, as the relay
 * makes its document afresh.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "status.h"
#include "util.h"

static const char *fixture;

static json_t *
fixture_doc(void)
{
	json_error_t e;
	json_t *doc = json_load_file(fixture, 0, &e);

	if (doc == NULL)
		log_warnx("%s: %s", fixture, e.text);
	return doc;
}

static void
credentials(const char *kind, const char *arg, const char *user)
{
	char err[256], *data;
	FILE *f;
	long n;

	if (strcmp(kind, "user") == 0) {
		if (status_auth_set(user, arg, err, sizeof(err)) == -1)
			fatalx("%s", err);
		return;
	}
	if ((f = fopen(arg, "r")) == NULL)
		fatal("%s", arg);
	data = xmalloc(1 << 20);
	n = (long)fread(data, 1, 1 << 20, f);
	fclose(f);
	if (status_auth_htpasswd(data, (size_t)n, err, sizeof(err)) == -1)
		fatalx("%s: %s", arg, err);
	free(data);
}

static int
listen_any(const char *portfile)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	FILE *f;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		fatal("listen");
	if ((f = fopen(portfile, "w")) == NULL)
		fatal("%s", portfile);
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);
	return fd;
}

int
main(int argc, char **argv)
{
	if (argc != 5 && argc != 6)
		fatalx("usage: status_serve PORTFILE FIXTURE user|htpasswd ARG");
	log_init("status_serve", LOG_DEST_STDERR);
	log_setlevel(LOG_LVL_DEBUG);
	fixture = argv[2];
	ev_init();
	/* "user NAME HASH" or "htpasswd FILE" */
	if (strcmp(argv[3], "user") == 0 && argc == 6)
		credentials("user", argv[5], argv[4]);
	else if (strcmp(argv[3], "htpasswd") == 0 && argc == 5)
		credentials("htpasswd", argv[4], NULL);
	else
		fatalx("usage: status_serve PORTFILE FIXTURE user NAME HASH | "
		    "htpasswd FILE");
	status_set_doc(fixture_doc);
	status_start(listen_any(argv[1]));
	ev_loop();
	return 0;
}
