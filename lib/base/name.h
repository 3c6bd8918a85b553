/* SPDX-License-Identifier: GPL-2.0 */
/* Names of things (the gateway, sections, devices, apps): one length and one character set. */
#ifndef CG_BASE_NAME_H
#define CG_BASE_NAME_H

#include <stdbool.h>

/* Buffer size of every name, NUL included. */
#define CG_NAME_MAX 64

/* The rule name_valid checks, for messages. */
#define NAME_RULE "1..63 of A-Z a-z 0-9 _ . -"

/*
 * True if s follows NAME_RULE and is not "." or "..": names become pin
 * directories, file names and JSON strings as they are.
 */
bool name_valid(const char *s);

/* SPIFFE trust domains (SPIFFE-ID §2.1): 1..255 of [a-z0-9._-]. */
#define CG_TRUST_DOMAIN_MAX 255
#define CG_TRUST_DOMAIN_DEFAULT "capgate"
#define TRUST_DOMAIN_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"
#define TRUST_DOMAIN_RULE "1..255 of a-z 0-9 . _ -"

/* True if td is a valid trust domain name (TRUST_DOMAIN_RULE). */
bool trust_domain_valid(const char *td);

/* True if c is one of NAME_RULE's characters. */
bool name_char(char c);

#endif
