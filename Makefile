# SPDX-License-Identifier: GPL-2.0
# capgate: the one entry point (deps all test demo bench lint format).
#
# .bpf.c -> .bpf.o -> .skel.h -> user .o (libbpf-bootstrap's chain); all
# output in build/. V=1 shows the commands. SAN=1 builds the binary with
# ASan+UBSan (unit and bpf tests always use them).

.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all deps test unit-test bpf-test net-test fuzz-smoke fuzz soak demo bench pcaps lint format \
	hdrcheck check-bpf clean install

B := build
ARCH_INC := /usr/include/$(shell gcc -print-multiarch)

CC := gcc
CLANG := clang
BPFTOOL := $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)

PKGS := libbpf libsodium openssl libpcap libmicrohttpd jansson inih libcurl libseccomp
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-I. -I$(B) $(PKG_CFLAGS) -MMD -MP
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Test builds (build/san/: the unit and bpf tests, build/san/capgate for the net tests)
# compile the test-only requests in; build/capgate never has them.
TESTFLAGS := -DCG_TESTING
# __TARGET_ARCH_<arch> (libbpf's convention) tells BPF code the CPU it will run on.
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror -I. -idirafter $(ARCH_INC) \
	-MMD -MP

ifeq ($(SAN),1)
CFLAGS += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

LIB_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
CMD_SRCS := $(sort $(wildcard cmd/capgate/*.c))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
SKELS := $(patsubst bpf/%.bpf.c,$(B)/%.skel.h,$(BPF_SRCS))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(B)/%.bpf.o,$(BPF_SRCS))

LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
CMD_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(CMD_SRCS))
SAN_CMD_OBJS := $(patsubst %.c,$(B)/san/%.o,$(CMD_SRCS))
SAN_LIB_OBJS := $(patsubst %.c,$(B)/san/%.o,$(LIB_SRCS))
TLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
SAN_TLIB_OBJS := $(patsubst %.c,$(B)/san/%.o,$(TLIB_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(sort $(wildcard tests/bpf/test_*.c))
BPFT_BINS := $(patsubst tests/bpf/%.c,$(B)/tests/bpf/%,$(BPFT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRCS))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

CAPGATE := $(B)/capgate
# The test build of the binary: ASan+UBSan and CG_TESTING (tests/net/test_sandbox.sh).
SAN_CAPGATE := $(B)/san/capgate

all: $(CAPGATE) $(BPF_OBJS)

# ---- dependencies (Debian packages) -----------------------------------------
DEB_PKGS := build-essential clang llvm libbpf-dev bpftool libsodium-dev libssl-dev \
	libpcap-dev libmicrohttpd-dev libjansson-dev libinih-dev libcurl4-openssl-dev libseccomp-dev \
	libelf-dev zlib1g-dev pkg-config libclang-rt-14-dev iproute2 util-linux jq curl \
	netcat-openbsd iputils-ping tcpdump xdp-tools libxdp1 clang-format cppcheck \
	clang-tools python3 valgrind nftables
# The peers and traffic makers `make bench` measures against (../shared/bench).
BENCH_PKGS := tshark wireshark-common libndpi-bin iperf3 dnsmasq-base bind9-dnsutils ethtool \
	time openssl openvpn wireguard-go wireguard-tools socat haproxy wrk
DEPS_STAMP := $(B)/.deps-ok
BENCH_DEPS_STAMP := $(B)/.bench-deps-ok

deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	$(Q)mkdir -p $(B)
	$(Q)missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(Q)touch $@

$(BENCH_DEPS_STAMP): $(DEPS_STAMP)
	$(Q)missing=$$(for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(Q)touch $@

# ---- BPF --------------------------------------------------------------------
$(B)/%.bpf.o: bpf/%.bpf.c | $(B)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/%.skel.h: $(B)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# ---- user space -------------------------------------------------------------
$(B)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DCG_SRCDIR='"$(CURDIR)"' -c $< -o $@

$(B)/san/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $(TESTFLAGS) -DCG_SRCDIR='"$(CURDIR)"' -c $< -o $@

$(CAPGATE): $(CMD_OBJS) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN_CAPGATE): $(SAN_CMD_OBJS) $(SAN_LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/unit/%: $(B)/san/tests/unit/%.o $(SAN_LIB_OBJS) $(SAN_TLIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/bpf/%: $(B)/san/tests/bpf/%.o $(SAN_LIB_OBJS) $(SAN_TLIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

# The benchmarks' floors: the hash alone, the accept path's (bench/cap_bench.c), and an
# empty TC program, tc_lb's (bench/lb_bench.c).
$(B)/bench/%.bpf.o: bench/%.bpf.c | $(B)
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(B)/obj/bench/cap_bench.o: $(B)/bench/sip_floor.skel.h
$(B)/obj/bench/lb_bench.o: $(B)/bench/tc_empty.skel.h

# Small programs the net tests run (tests/tools).
$(B)/tests/tools/%: $(B)/obj/tests/tools/%.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
# The flooder builds its template frame with the tests' packet builder.
$(B)/tests/tools/flood: $(B)/obj/tests/lib/pkt.o

$(B)/bench/%: $(B)/obj/bench/%.o $(LIB_OBJS) $(patsubst %.c,$(B)/obj/%.o,$(TLIB_SRCS))
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS)

# libFuzzer harnesses link the library built by clang with the fuzzer.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -MMD -MP -I. -I$(B) $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJS := $(patsubst %.c,$(B)/fuzz/%.o,$(LIB_SRCS))
$(B)/fuzz/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(B)/tests/fuzz/%: $(B)/fuzz/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

# The same harnesses built for clang's source coverage (no sanitizers), for make fuzz's report.
COV_FLAGS := -fprofile-instr-generate -fcoverage-mapping
COV_CFLAGS := -std=gnu11 -O1 -g -MMD -MP -I. -I$(B) $(PKG_CFLAGS) -fsanitize=fuzzer-no-link $(COV_FLAGS)
COV_LIB_OBJS := $(patsubst %.c,$(B)/cov/%.o,$(LIB_SRCS))
COV_BINS := $(patsubst tests/fuzz/%.c,$(B)/cov/bin/%,$(FUZZ_SRCS))
$(B)/cov/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-COV,$@)
	$(Q)$(CLANG) $(COV_CFLAGS) -c $< -o $@
$(B)/cov/bin/%: $(B)/cov/tests/fuzz/%.o $(COV_LIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer $(COV_FLAGS) -o $@ $^ $(PKG_LIBS)
# Kept between builds: the harnesses share them.
.SECONDARY: $(FUZZ_LIB_OBJS) $(COV_LIB_OBJS)

$(B):
	@mkdir -p $@

# ---- tests ------------------------------------------------------------------
# tests/run.sh runs every level and prints one line "N passed, N failed, N skipped".
test: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS) $(TOOL_BINS) \
		$(SAN_CAPGATE)
	$(Q)tests/run.sh

unit-test: $(UNIT_BINS) $(CAPGATE)
	$(Q)LEVELS=unit tests/run.sh
bpf-test: $(BPFT_BINS) $(BPF_OBJS)
	$(Q)LEVELS=bpf tests/run.sh
net-test: all $(TOOL_BINS) $(SAN_CAPGATE)
	$(Q)LEVELS=net tests/run.sh
fuzz-smoke: $(FUZZ_BINS) $(CAPGATE)
	$(Q)LEVELS=fuzz tests/run.sh
# Every harness for FUZZ_TIME seconds, one after the other; new inputs merged into
# tests/fuzz/corpus/; line coverage of the parsers (tests/fuzz/fuzz.sh).
FUZZ_TIME ?= 300
fuzz: $(FUZZ_BINS) $(COV_BINS)
	$(Q)FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/fuzz.sh
# SOAK_CYCLES connect/vanish cycles under traffic, the gateway SIGKILLed every 100;
# nothing may be left (tests/net/soak.sh, docs/testing.md).
SOAK_CYCLES ?= 1000
soak: all $(TOOL_BINS)
	$(Q)SOAK_CYCLES=$(SOAK_CYCLES) tests/net/soak.sh

demo: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(CAPGATE) demo

bench: $(BENCH_DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS) $(TOOL_BINS)
	$(Q)bench/run.sh

# Remakes the analyzer's test captures and their tshark oracle (tests/pcaps/, committed
# fixtures: `make test` reads them, never remakes them). Needs root and the bench tools.
pcaps: $(BENCH_DEPS_STAMP)
	$(Q)tests/pcaps/make.sh

# ---- checks -----------------------------------------------------------------
C_FILES = $(shell git ls-files '*.c' '*.h')
lint: hdrcheck
	$(Q)tests/lint/includes.sh
	$(Q)tests/lint/runner.sh
	$(Q)clang-format --dry-run --Werror $(C_FILES)
	$(Q)! grep -rn 'bpf_printk' bpf/ || { echo "lint: bpf_printk in bpf/"; false; }
	$(Q)for a in x86 arm64; do $(CLANG) $(filter-out -D__TARGET_ARCH_% -MMD -MP,$(BPF_CFLAGS)) \
		-D__TARGET_ARCH_$$a -fsyntax-only bpf/gate.bpf.c || exit 1; done
	$(Q)! grep -rnE '\<exit\(|(^|[^a-z_])printf\(|fprintf\(stdout|\<puts\(' lib/ || { echo "lint: exit/printf in lib/"; false; }
	$(Q)for f in $(C_FILES); do head -1 $$f | grep -q SPDX-License-Identifier || { echo "lint: $$f: no SPDX tag on line 1"; exit 1; }; done
	$(Q)cppcheck -q --enable=warning,portability --error-exitcode=1 --inline-suppr -I. \
		'-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = {__VA_ARGS__}' lib cmd
# scan-build 14's --exclude drops a report by the directory of the file it points
# into, not by the file being compiled: reports inside build/ (bpftool's generated
# skeletons, which we do not edit) are not counted, while our code that calls
# into them is still analysed. The one false positive the skeleton had (a leak on
# its error path, freed by libbpf) is answered at its cause instead: lib/gateway/gateway.c
# tells the analyzer that bpf_object__destroy_skeleton() takes ownership. False
# positives in our own code are answered in the code too, never by disabling a checker.
	$(Q)scan-build -o $(B)/scan --status-bugs --exclude $(CURDIR)/$(B) $(MAKE) --no-print-directory -B B=$(B)/scan-obj \
		$(B)/scan-obj/capgate >/dev/null

format:
	$(Q)clang-format -i $(C_FILES)

hdrcheck:
	$(Q)for h in abi/*.h; do \
		echo "#include \"$$h\"" | $(CC) -std=gnu11 -Wall -Werror -I. -x c -fsyntax-only - || exit 1; \
		echo "#include \"$$h\"" | $(CLANG) -target bpf -Wall -Werror -I. -idirafter $(ARCH_INC) -x c -fsyntax-only - || exit 1; \
	done
	$(Q)for h in lib/*.h lib/*/*.h; do \
		[ -f "$$h" ] || continue; \
		echo "#include \"$$h\"" | $(CC) -std=gnu11 -Wall -Werror -I. -I$(B) $(PKG_CFLAGS) -x c -fsyntax-only - || exit 1; \
	done

# Loads every .bpf.o (the verifier must accept it) and prints instruction counts.
check-bpf: $(BPF_OBJS) $(B)/tests/bpf/test_load
	$(Q)$(B)/tests/bpf/test_load

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
