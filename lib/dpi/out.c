// SPDX-License-Identifier: GPL-2.0
/* out: one compact JSON object per line, keys in the order the issue lists them. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dpi/out.h"

struct out {
	FILE *fp;
	unsigned int flags;
	int err;
};

struct out *out_new(FILE *fp, unsigned int flags)
{
	struct out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fp = fp;
	o->flags = flags;
	return o;
}

void out_free(struct out *o)
{
	free(o);
}

double out_ts(uint64_t ns)
{
	/* microsecond resolution keeps the number exact enough in a double */
	return (double)(ns / 1000) / 1e6;
}

const char *out_proto_str(unsigned int proto, char buf[8])
{
	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	default:
		snprintf(buf, 8, "%u", proto & 0xff);
		return buf;
	}
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static int put(struct out *o, json_t *obj)
{
	char *s;

	if (!obj)
		return -ENOMEM;
	if (!o->err) {
		s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
		if (!s || fputs(s, o->fp) == EOF || fputc('\n', o->fp) == EOF)
			o->err = -EIO;
		free(s);
	}
	json_decref(obj);
	return o->err;
}

static bool quiet(const struct out *o)
{
	return o->flags & (OUT_SUMMARY_ONLY | OUT_QUIET);
}

int out_event(struct out *o, const struct dpi_event *ev)
{
	json_t *obj, *arr;
	char tbuf[DNS_TYPE_STR_MAX];
	unsigned int i;

	if (quiet(o))
		return 0;
	obj = json_object();
	if (!obj)
		return -ENOMEM;
	switch (ev->type) {
	case DPI_EV_HTTP:
		json_object_set_new(obj, "type", json_string("http"));
		json_object_set_new(obj, "ts", json_real(out_ts(ev->ts_ns)));
		json_object_set_new(obj, "flow", json_integer((json_int_t)ev->flow->id));
		json_object_set_new(obj, "method", json_string(ev->http->method));
		json_object_set_new(obj, "host", str_or_null(ev->http->host));
		json_object_set_new(obj, "uri", json_string(ev->http->uri));
		if (ev->http->status)
			json_object_set_new(obj, "status", json_integer(ev->http->status));
		break;
	case DPI_EV_DNS:
		json_object_set_new(obj, "type", json_string("dns"));
		json_object_set_new(obj, "ts", json_real(out_ts(ev->ts_ns)));
		json_object_set_new(obj, "flow", json_integer((json_int_t)ev->flow->id));
		json_object_set_new(obj, "transport", json_string(ev->transport));
		json_object_set_new(obj, "qr", json_integer(ev->dns->qr));
		json_object_set_new(obj, "id", json_integer(ev->dns->id));
		json_object_set_new(obj, "name",
				    ev->dns->has_question ? json_string(ev->dns->name)
							  : json_null());
		json_object_set_new(obj, "qtype",
				    ev->dns->has_question
					    ? json_string(dns_type_str(ev->dns->qtype, tbuf))
					    : json_null());
		json_object_set_new(obj, "rcode", json_integer(ev->dns->rcode));
		arr = json_array();
		for (i = 0; arr && i < ev->dns->nanswers && i < DNS_ANSWERS_MAX; i++)
			json_array_append_new(arr, json_string(ev->dns->answers[i]));
		json_object_set_new(obj, "answers", arr ? arr : json_null());
		break;
	case DPI_EV_TLS:
	case DPI_EV_QUIC:
		json_object_set_new(obj, "type",
				    json_string(ev->type == DPI_EV_TLS ? "tls" : "quic"));
		json_object_set_new(obj, "ts", json_real(out_ts(ev->ts_ns)));
		json_object_set_new(obj, "flow", json_integer((json_int_t)ev->flow->id));
		json_object_set_new(obj, "sni", str_or_null(ev->hello->sni));
		arr = json_array();
		for (i = 0; arr && i < ev->hello->nalpn && i < TLS_ALPN_MAX; i++)
			json_array_append_new(arr, json_string(ev->hello->alpn[i]));
		json_object_set_new(obj, "alpn", arr ? arr : json_null());
		break;
	}
	return put(o, obj);
}

static json_t *addr_json(uint8_t af, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(af == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf)))
		return json_null();
	return json_string(buf);
}

static json_t *pair(uint64_t a, uint64_t b)
{
	json_t *arr = json_array();

	if (arr) {
		json_array_append_new(arr, json_integer((json_int_t)a));
		json_array_append_new(arr, json_integer((json_int_t)b));
	}
	return arr;
}

int out_flow(struct out *o, const struct flow *f)
{
	int s = f->init_side, r = !f->init_side;
	char pbuf[8];
	json_t *obj, *vl;
	unsigned int i;

	if (quiet(o))
		return 0;
	obj = json_object();
	if (!obj)
		return -ENOMEM;
	json_object_set_new(obj, "type", json_string("flow"));
	json_object_set_new(obj, "id", json_integer((json_int_t)f->id));
	json_object_set_new(obj, "proto", json_string(out_proto_str(f->key.proto, pbuf)));
	json_object_set_new(obj, "src", addr_json(f->key.af, f->key.addr[s]));
	json_object_set_new(obj, "sport", json_integer(f->key.port[s]));
	json_object_set_new(obj, "dst", addr_json(f->key.af, f->key.addr[r]));
	json_object_set_new(obj, "dport", json_integer(f->key.port[r]));
	vl = json_array();
	for (i = 0; vl && i < f->nvlan && i < DEC_MAX_VLAN; i++)
		json_array_append_new(vl, json_integer(f->vlan[i]));
	json_object_set_new(obj, "vlan", vl ? vl : json_null());
	json_object_set_new(obj, "first", json_real(out_ts(f->first_ns)));
	json_object_set_new(obj, "last", json_real(out_ts(f->last_ns)));
	json_object_set_new(obj, "packets", pair(f->pkts[0], f->pkts[1]));
	json_object_set_new(obj, "bytes", pair(f->bytes[0], f->bytes[1]));
	json_object_set_new(obj, "end", json_string(flow_end_str(f->end)));
	json_object_set_new(obj, "app", str_or_null(f->app));
	json_object_set_new(obj, "gaps", json_integer(f->gaps));
	return put(o, obj);
}

int out_summary(struct out *o, const struct dpi_counters *c, double elapsed_s)
{
	json_t *obj;

	if (o->flags & OUT_QUIET)
		return 0;
	obj = json_object();
	if (!obj)
		return -ENOMEM;
	json_object_set_new(obj, "type", json_string("summary"));
	json_object_set_new(obj, "packets", json_integer((json_int_t)c->packets));
	json_object_set_new(obj, "bytes", json_integer((json_int_t)c->bytes));
	json_object_set_new(obj, "ipv4", json_integer((json_int_t)c->ipv4));
	json_object_set_new(obj, "ipv6", json_integer((json_int_t)c->ipv6));
	json_object_set_new(obj, "tcp", json_integer((json_int_t)c->tcp));
	json_object_set_new(obj, "udp", json_integer((json_int_t)c->udp));
	json_object_set_new(obj, "icmp", json_integer((json_int_t)(c->icmp + c->icmp6)));
	json_object_set_new(obj, "arp", json_integer((json_int_t)c->arp));
	json_object_set_new(obj, "fragments", json_integer((json_int_t)c->fragments));
	json_object_set_new(obj, "reassembled", json_integer((json_int_t)c->reassembled));
	json_object_set_new(obj, "flows", json_integer((json_int_t)c->flows));
	json_object_set_new(obj, "malformed", json_integer((json_int_t)c->malformed));
	json_object_set_new(obj, "evicted", json_integer((json_int_t)c->evicted));
	json_object_set_new(obj, "elapsed_s", json_real(elapsed_s));
	return put(o, obj);
}
