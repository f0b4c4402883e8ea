/*
 * tlsconn.c - new TLS connections per second against a server, for
 * bench_tls.sh: P processes each connect, handshake (resuming the first
 * session with -r) and close, in a loop for S seconds; prints the total
 * rate as "conns/s N" and the share resumed.  Wall-clock time, not the
 * client's CPU time (openssl s_time reports the latter).
 *
 * usage: tlsconn HOST PORT SERVERNAME CAFILE SECONDS PROCS [-r]
 * build: cc -O2 -o tlsconn tlsconn.c -lssl -lcrypto
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection; 1 resumed, 0 full, -1 failed.  *sess keeps a session. */
static int
one(SSL_CTX *ctx, struct sockaddr_in *sa, const char *name, SSL_SESSION **sess,
    int reuse)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1, rc = -1;
	SSL *ssl;

	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) == -1) {
		close(fd);
		return -1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, name);
	if (reuse && *sess)
		SSL_set_session(ssl, *sess);
	if (SSL_connect(ssl) == 1) {
		rc = SSL_session_reused(ssl);
		/* TLS 1.3 tickets come after the handshake: one request
		 * and its answer read to the end bring it */
		if (reuse && !rc) {
			static const char rq[] = "GET /v2/ HTTP/1.1\r\nHost: x"
			    "\r\nConnection: close\r\n\r\n";
			char buf[4096];
			SSL_write(ssl, rq, sizeof(rq) - 1);
			while (SSL_read(ssl, buf, sizeof(buf)) > 0)
				;
			if (*sess)
				SSL_SESSION_free(*sess);
			*sess = SSL_get1_session(ssl);
		}
		SSL_shutdown(ssl);
	} else
		ERR_print_errors_fp(stderr);
	SSL_free(ssl);
	close(fd);
	return rc;
}

static void
worker(const char *host, int port, const char *name, const char *ca,
    double secs, int reuse, int out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_SESSION *sess = NULL;
	struct sockaddr_in sa;
	long n = 0, resumed = 0, failed = 0;
	double end = now() + secs;
	char line[128];
	int r;

	SSL_CTX_load_verify_locations(ctx, ca, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	while (now() < end && failed < 100) {
		if ((r = one(ctx, &sa, name, &sess, reuse)) < 0)
			failed++;
		else {
			n++;
			resumed += r;
		}
	}
	snprintf(line, sizeof(line), "%ld %ld %ld\n", n, resumed, failed);
	if (write(out, line, strlen(line)) < 0)
		_exit(1);
	_exit(0);
}

int
main(int argc, char **argv)
{
	long n = 0, resumed = 0, failed = 0, a, b, c;
	int p[2], procs;
	double secs, t0;
	FILE *f;

	if (argc < 7) {
		fprintf(stderr, "usage: tlsconn HOST PORT NAME CAFILE SECONDS "
		    "PROCS [-r]\n");
		return 2;
	}
	secs = atof(argv[5]);
	procs = atoi(argv[6]);
	if (pipe(p) == -1 || procs < 1 || procs > 64 || secs <= 0 || secs > 600)
		return 2;
	t0 = now();
	for (int i = 0; i < procs; i++)
		if (fork() == 0)
			worker(argv[1], atoi(argv[2]), argv[3], argv[4], secs,
			    argc > 7 && strcmp(argv[7], "-r") == 0, p[1]);
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fscanf(f, "%ld %ld %ld", &a, &b, &c) == 3) {
		n += a;
		resumed += b;
		failed += c;
	}
	while (wait(NULL) > 0)
		;
	printf("conns/s %.0f resumed %ld/%ld failed %ld\n", n / (now() - t0),
	    resumed, n, failed);
	return failed ? 1 : 0;
}
