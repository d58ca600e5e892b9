# rldt — one non-recursive Makefile. Outputs under build/ (build-san/ for `make san`).
# `make run` and `make test` first install missing Debian packages (deploy/packages.txt).

BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

PKGS    := libzmq libprotobuf-c openblas libuv jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
# HDF5 (dataset-import/-export) lives in Debian's serial flavour directory
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null)
HDF5_LIBS   := $(shell pkg-config --libs hdf5 2>/dev/null)
FINAL_CFLAGS := $(CFLAGS) $(WARN) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
           -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(HDF5_CFLAGS) $(EXTRA_CFLAGS)
# -rdynamic: task plug-ins (dlopen) call the programs' own functions (common/rng.h)
FINAL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS) -rdynamic
# FFmpeg's libraries write the MP4 videos (actor/video.c); EGL gives MuJoCo a headless context
AV_LIBS := $(shell pkg-config --libs libavformat libavcodec libswscale libavutil 2>/dev/null)
# PLplot draws curve.png (deploy/rldt/curve.c); as-needed: only binaries that call it depend on it
LIBS    := $(PKG_LIBS) -lmujoco -linih -lhttp_parser -lpthread -lm \
           -Wl,--as-needed -lplplot $(HDF5_LIBS) $(AV_LIBS) -lEGL -Wl,--no-as-needed

# ---- sources -------------------------------------------------------------------------------
COMMON_SRC  := $(wildcard common/*.c)
PROTO_FILES := $(wildcard proto/*.proto)
GEN_SRC     := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_FILES))
GEN_HDR     := $(GEN_SRC:.c=.h)
PROTO_SRC   := $(wildcard proto/*.c)
ACTOR_SRC   := $(filter-out actor/main.c,$(wildcard actor/*.c))
LEARNER_SRC := $(filter-out learner/main.c,$(wildcard learner/*.c learner/algo/*.c))
TOOL_SRC    := $(wildcard deploy/rldt/*.c)
# the CLI's modules its tests also link: PNG curves, the stats HTTP client, synthetic replays
CLI_SRC     := deploy/rldt/curve.c deploy/rldt/statsc.c deploy/rldt/synth.c
TEST_SRC    := $(wildcard tests/test_*.c)

comma := ,
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_COMMON  := $(BUILD)/libcommon.a
LIB_PROTO   := $(BUILD)/libproto.a
LIB_ACTOR   := $(BUILD)/libactor.a
LIB_LEARNER := $(BUILD)/liblearner.a
LIB_CLI     := $(BUILD)/libcli.a
ALL_LIBS    := $(LIB_LEARNER) $(LIB_ACTOR) $(LIB_PROTO) $(LIB_COMMON)

PROGS := $(BUILD)/rldt
ifneq ($(wildcard actor/main.c),)
PROGS += $(BUILD)/rldt-actor
endif
ifneq ($(wildcard learner/main.c),)
PROGS += $(BUILD)/rldt-learner
endif
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC)) $(BUILD)/fuzz/gen_seeds
# the example task plug-in (and a copy built for another plug-in ABI, for the refusal test)
PLUGINS := $(BUILD)/tests/task_plugin_example.so $(BUILD)/tests/task_plugin_badabi.so

.SECONDARY:
.PHONY: all deps test check san run bench format lint clean base-policies image fuzz fuzz-bins \
        fuzz-seeds
all: $(PROGS) $(TESTS) $(PLUGINS)

deps:
	@./deploy/install-deps.sh

# ---- rules ---------------------------------------------------------------------------------
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	@$(if $(Q),echo "  PROTOC  $<")
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

$(BUILD)/obj/%.o: %.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

# generated code is not held to our warning flags
$(BUILD)/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/gen $(PKG_CFLAGS) -c $< -o $@

define mklib
$(1): $(2)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $(2)
endef
$(eval $(call mklib,$(LIB_COMMON),$(call obj,$(COMMON_SRC))))
$(eval $(call mklib,$(LIB_PROTO),$(call obj,$(PROTO_SRC) $(GEN_SRC))))
$(eval $(call mklib,$(LIB_ACTOR),$(call obj,$(ACTOR_SRC))))
$(eval $(call mklib,$(LIB_LEARNER),$(call obj,$(LEARNER_SRC))))
$(eval $(call mklib,$(LIB_CLI),$(call obj,$(CLI_SRC))))

define link
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(FINAL_LDFLAGS) -o $@ $^ $(LIBS)
endef

$(BUILD)/rldt: $(call obj,$(TOOL_SRC)) $(ALL_LIBS)
	$(link)
$(BUILD)/rldt-actor: $(call obj,actor/main.c) $(ALL_LIBS)
	$(link)
$(BUILD)/rldt-learner: $(call obj,learner/main.c) $(ALL_LIBS)
	$(link)
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB_CLI) $(ALL_LIBS)
	$(link)
$(BUILD)/tests/task_plugin_example.so: tests/task_plugin_example.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(FINAL_CFLAGS) -fPIC -shared -MMD -MP $< -o $@ -lmujoco
$(BUILD)/tests/task_plugin_badabi.so: tests/task_plugin_example.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -DTASK_EXAMPLE_BAD_ABI -fPIC -shared $< -o $@ -lmujoco
# libFuzzer targets: built by `make fuzz` with clang in build-fuzz/ (FUZZ_CFLAGS below)
$(BUILD)/fuzz/gen_seeds: $(call obj,tests/fuzz/gen_seeds.c) $(ALL_LIBS)
	$(link)
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(call obj,tests/fuzz/util.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(FINAL_LDFLAGS) -o $@ $^ $(LIBS)
fuzz-bins: $(FUZZ_BINS)

# ---- user targets --------------------------------------------------------------------------
# test and run install packages first, then build with a fresh make (so pkg-config sees them).
test check: deps
	@$(MAKE) --no-print-directory all
	@command -v clang >/dev/null && $(MAKE) --no-print-directory BUILD=$(BUILD)-fuzz CC=clang \
	    CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins || echo "fuzz targets not built (tests/integ_fuzz.sh says why)"
	@BUILD=$(BUILD) ./tests/run.sh

# The main job: RLDT fine-tunes the shipped Hopper base policy (deploy/policies/hopper.rldt)
# with the CPU-sized config; it prints the deterministic eval return at start and end and
# leaves curve.png and a TensorBoard event file in the run directory. RUN_DIR=... to choose it.
ifndef RUN_DIR
RUN_DIR := runs/make-run-$(shell date +%Y%m%d-%H%M%S)
endif
run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/rldt run --config=deploy/configs/rldt-cpu.ini --run-dir=$(RUN_DIR)

# The tests under ASan + UBSan (any finding aborts the test); SAN_TESTS=test_ (a run.sh name
# filter) runs a subset, e.g. the C unit tests only. Time-outs and the tests' own waits are
# stretched 3x (TEST_TIMEOUT_SCALE, tests/run.sh): sanitized code runs 2-3x slower.
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
san: deps
	@$(MAKE) --no-print-directory BUILD=build-san CFLAGS="$(SAN_CFLAGS)" all
	@BUILD=build-san TEST_TIMEOUT_SCALE=$${TEST_TIMEOUT_SCALE:-3} ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ./tests/run.sh $(SAN_TESTS)

# The shipped base policies deploy/policies/<task>.rldt: SAC stopped at D4RL-medium level ->
# collect -> pre-train -> eval (hours; resumable: rerun to continue). TASKS="hopper" for one;
# options (SAC_RUN_hopper=runs/..., COLLECT_STEPS, ...) in deploy/scripts/base-policies.sh.
# The table-top tasks (lift stack peg) go through deploy/scripts/manip-base-policies.sh instead:
# scripted demos -> flow BC -> stochastic eval, shipped when its success rate is in [0.2, 0.6];
# TASKS=lift-pixels: the same from 84x84 camera images (not in the default list: ~1 h of CPU).
LOCO_TASKS  := $(filter-out lift stack peg lift-pixels,$(TASKS))
MANIP_TASKS := $(filter lift stack peg lift-pixels,$(TASKS))
base-policies: all
	$(if $(TASKS),$(if $(LOCO_TASKS),RLDT=./$(BUILD)/rldt ./deploy/scripts/base-policies.sh $(LOCO_TASKS),@:),RLDT=./$(BUILD)/rldt ./deploy/scripts/base-policies.sh)
	$(if $(TASKS),$(if $(MANIP_TASKS),RLDT=./$(BUILD)/rldt ./deploy/scripts/manip-base-policies.sh $(MANIP_TASKS),@:),RLDT=./$(BUILD)/rldt ./deploy/scripts/manip-base-policies.sh)

# the container image rldt:latest (podman, Debian base made by debootstrap, no registry; root)
image:
	./deploy/scripts/image.sh
# Fuzzing: every tests/fuzz/fuzz_*.c target under libFuzzer with ASan and UBSan, FUZZ_SECS
# seconds each (FUZZ=wire,ckpt for a subset), from the committed seeds; new inputs go to
# build-fuzz/corpus/, crashes to build-fuzz/findings/. `make fuzz-seeds` rewrites the generated
# seeds (the regress-* inputs of past findings stay).
FUZZ_SECS ?= 60
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
	@BUILD=build-fuzz FUZZ_SECS=$(FUZZ_SECS) ./tests/fuzz/run.sh $(subst $(comma), ,$(FUZZ))
fuzz-seeds:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
	./build-fuzz/fuzz/gen_seeds tests/fuzz/seeds

bench: all
	./$(BUILD)/rldt bench nn

FORMAT_SRC = $(wildcard common/*.[ch] proto/*.[ch] actor/*.[ch] learner/*.[ch] learner/algo/*.[ch] \
               deploy/rldt/*.[ch] tests/*.[ch] tests/fuzz/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)
lint:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
