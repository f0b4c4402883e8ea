/*
 * tframe.c - encoding and checking tunnel frames (see tframe.h).  One
 * table says, per type, which flags, which stream and how long a payload
 * a frame may have; the decoder and the encoder both obey it.
 */
#include <string.h>

#include "log.h"
#include "tframe.h"

struct tframe_rule {
	const char	*name;
	uint8_t		 flags;		/* flags the type may carry */
	int		 stream0;	/* 1: stream 0 only; 0: never 0 */
	uint32_t	 minlen, maxlen;
};

static const struct tframe_rule rules[TF_NTYPES] = {
	[TF_DATA] =	{ "DATA", TF_F_ZLIB, 0, 1, TF_DATA_MAX },
	[TF_OPEN] =	{ "OPEN", 0, 0, 0, TF_OPEN_MAX },
	[TF_CLOSE] =	{ "CLOSE", TF_F_RST, 0, 0, 4 },
	[TF_WINDOW] =	{ "WINDOW", 0, 0, 4, 4 },
	[TF_PING] =	{ "PING", TF_F_ACK, 1, 8, 8 },
	[TF_CTRL] =	{ "CTRL", 0, 1, 1, TF_CTRL_MAX },
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *
tframe_type_name(enum tframe_type t)
{
	return (unsigned)t < TF_NTYPES ? rules[t].name : "unknown";
}

/* NULL if a header of these fields obeys the rules, else why not. */
static const char *
header_fault(unsigned type, uint8_t flags, uint32_t stream, uint32_t len)
{
	const struct tframe_rule *r;

	if (type >= TF_NTYPES)
		return "unknown frame type";
	r = &rules[type];
	if (flags & ~r->flags)
		return "flags this frame type does not have";
	if (r->stream0 != (stream == 0))
		return r->stream0 ? "connection frame on a stream" :
		    "stream frame on stream 0";
	if (len < r->minlen || len > r->maxlen ||
	    (type == TF_CLOSE && len != 0 && len != 4))
		return "payload length this frame type cannot have";
	return NULL;
}

/* The fields of a whole frame's payload; NULL if they are sound. */
static const char *
payload_fault(struct tframe *f)
{
	f->value = 0;
	f->ping = 0;
	if (f->type == TF_WINDOW || (f->type == TF_CLOSE && f->len == 4))
		f->value = get32(f->payload);
	if (f->type == TF_WINDOW && (f->value == 0 ||
	    f->value > TF_WINDOW_MAX))
		return "window increment out of range";
	if (f->type == TF_PING)
		f->ping = (uint64_t)get32(f->payload) << 32 |
		    get32(f->payload + 4);
	return NULL;
}

long
tframe_parse(const uint8_t *buf, size_t len, struct tframe *f,
    const char **err)
{
	*err = NULL;
	if (len >= 4 && (buf[2] | buf[3]) != 0)
		*err = "reserved header bytes set";
	else if (len >= TF_HDR)
		*err = header_fault(buf[0], buf[1], get32(buf + 4),
		    get32(buf + 8));
	/* a partial header is refused as soon as its bytes show it wrong */
	else if (len >= 2 && buf[0] < TF_NTYPES)
		*err = header_fault(buf[0], buf[1], rules[buf[0]].stream0 ?
		    0 : 1, rules[buf[0]].minlen);
	else if (len >= 1 && buf[0] >= TF_NTYPES)
		*err = "unknown frame type";
	if (*err)
		return -1;
	if (len < TF_HDR || len - TF_HDR < get32(buf + 8))
		return 0;
	f->type = buf[0];
	f->flags = buf[1];
	f->stream = get32(buf + 4);
	f->len = get32(buf + 8);
	f->payload = buf + TF_HDR;
	if ((*err = payload_fault(f)) != NULL)
		return -1;
	return (long)(TF_HDR + f->len);
}

void
tframe_header(uint8_t out[TF_HDR], enum tframe_type type, uint8_t flags,
    uint32_t stream, uint32_t len)
{
	const char *why;

	if ((why = header_fault(type, flags, stream, len)) != NULL)
		fatalx("tframe: %s %u on stream %u: %s",
		    tframe_type_name(type), (unsigned)len, stream, why);
	out[0] = (uint8_t)type;
	out[1] = flags;
	out[2] = out[3] = 0;
	put32(out + 4, stream);
	put32(out + 8, len);
}

size_t
tframe_window(uint8_t *out, uint32_t stream, uint32_t increment)
{
	if (increment == 0 || increment > TF_WINDOW_MAX)
		fatalx("tframe: window increment %u", increment);
	tframe_header(out, TF_WINDOW, 0, stream, 4);
	put32(out + TF_HDR, increment);
	return TF_HDR + 4;
}

size_t
tframe_close(uint8_t *out, uint32_t stream, int rst, uint32_t code)
{
	uint32_t len = code ? 4 : 0;

	tframe_header(out, TF_CLOSE, rst ? TF_F_RST : 0, stream, len);
	if (len)
		put32(out + TF_HDR, code);
	return TF_HDR + len;
}

size_t
tframe_ping(uint8_t *out, int ack, uint64_t value)
{
	tframe_header(out, TF_PING, ack ? TF_F_ACK : 0, 0, 8);
	put32(out + TF_HDR, (uint32_t)(value >> 32));
	put32(out + TF_HDR + 4, (uint32_t)value);
	return TF_HDR + 8;
}
