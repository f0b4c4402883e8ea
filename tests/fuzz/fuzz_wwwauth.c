/*
 * fuzz_wwwauth.c - libFuzzer target for what httpd's upstream client
 * parses from a remote server: a WWW-Authenticate challenge
 * (wwwauth_parse), a token answer (wwwauth_token_parse) and a response
 * head (http_parse_response).  Input: challenge, 0x01, token body, 0x01,
 * response head.  A Bearer challenge that parses has a realm; a token is
 * visible ASCII and fits; a head has a status of three digits, a length
 * within the input, and no body framing both ways.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "wwwauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_challenge(const char *s)
{
	struct wwwauth w;

	if (wwwauth_parse(s, &w) != 0)
		return;
	if (w.scheme == WA_BEARER && w.realm[0] == '\0')
		abort();
	if (strlen(w.realm) >= sizeof(w.realm) || strlen(w.scope) >=
	    sizeof(w.scope) || strlen(w.service) >= sizeof(w.service))
		abort();
}

static void
check_token(const char *s, size_t n)
{
	char tok[64];
	uint64_t ttl;

	if (wwwauth_token_parse(s, n, tok, sizeof(tok), &ttl) != 0)
		return;
	if (tok[0] == '\0' || strlen(tok) >= sizeof(tok) || ttl == 0 ||
	    ttl > 86400)
		abort();
	for (const char *p = tok; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			abort();
}

static void
check_head(char *s, size_t n)
{
	struct http_request r;
	int rc = http_parse_response(s, n, &r);

	if (rc <= 0)
		return;
	if ((size_t)rc > n || r.status < 100 || r.status > 999 ||
	    (r.chunked && r.content_length >= 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *tok, *head;

	memcpy(text, data, size);
	text[size] = '\0';
	if ((tok = memchr(text, 0x01, size)) != NULL)
		*tok++ = '\0';
	head = tok ? memchr(tok, 0x01, size - (size_t)(tok - text)) : NULL;
	if (head != NULL)
		*head++ = '\0';
	check_challenge(text);
	if (tok != NULL)
		check_token(tok, strlen(tok));
	if (head != NULL)
		check_head(head, size - (size_t)(head - text));
	free(text);
	return 0;
}
