# scripts/rafdb.mk - RAF-DB (basic, 7 classes) in the manner of RMFER: a
# baseline classifier, the same with inter-sample attention (IAL), and the
# same initialized by contrastive pretraining on unlabelled face video.
#
#   make -f scripts/rafdb.mk RAFDB=/data/RAF-DB VIDEOS=/data/talk-shows -j2
#   -> results/rafdb/table.tsv and table.md: overall and average accuracy
#      (mean of the per-class recalls) on the 3,068 test images
#
# RAFDB is the directory holding basic/Image/aligned/ and
# basic/EmoLabel/list_patition_label.txt; the aligned 100x100 images are
# already face crops, so they go from fer-extract straight to fer-finetune.
# VIDEOS is a folder of unlabelled videos (ideally with several people, as
# RMFER's); without it the contrastive row says n/a.  The IAL row is trained
# when `fer-finetune --help` offers a working --ial, and says n/a otherwise
# (re-run make once it does: the row is then computed).
#
# Knobs (defaults in brackets): OUT [results/rafdb], BIN [build/bin], SEED [1],
# ARCH [cnn-s], SIZE [48] (grey), EPOCHS [30] and BATCH [64] (fer-finetune's
# defaults), PRETRAIN_EPOCHS [10] (fer-pretrain's default), VIDEO_RATE [5]
# (frames a second taken from VIDEOS), THREADS [1] (BLAS threads per run),
# FACETRACK_OPTS, FINETUNE_OPTS, PRETRAIN_OPTS.
#
# Protocol.  Train on the 12,271 training images for a fixed number of epochs
# with a class-weighted loss (RAF-DB is imbalanced), score the last epoch on
# the 3,068 test images, which never choose an epoch or a setting.
#
# Every step is a file written atomically; make -j2 trains two models at
# once, a killed run resumes from the training checkpoints, a finished one
# does nothing.
#
# Wall time on the 2-core development machine (an ESTIMATE, scaled from
# per-image training times measured with one epoch on 48 px face crops; see
# scripts/README-tables.md):
#   about 1.5 hours with -j2 for the three classifiers (~1 hour each on one
#   core), plus the contrastive pretraining: ~50 min per hour of one-face
#   video at VIDEO_RATE=5 with the defaults.

RAFDB  ?=
VIDEOS ?=
OUT    ?= results/rafdb
ARCH   ?= cnn-s
SIZE   ?= 48
EPOCHS ?= 30
BATCH  ?= 64
PRETRAIN_EPOCHS ?= 10
VIDEO_RATE      ?= 5
FACETRACK_OPTS  ?=
FINETUNE_OPTS   ?=
PRETRAIN_OPTS   ?=

include $(dir $(lastword $(MAKEFILE_LIST)))tables-common.mk

ifeq ($(RAFDB),)
$(error set RAFDB=/path/to/RAF-DB (the directory with basic/))
endif

# Asked of the tool, not assumed: a --ial line in the help that does not say
# it is unimplemented.
IAL_OK := $(shell $(BIN)/fer-finetune --help 2>&1 | grep -e '--ial' | grep -vc 'not implemented')
IAL_METRICS := $(if $(filter-out 0,$(IAL_OK)),$(OUT)/metrics-ial.tsv,$(OUT)/metrics-ial.missing)
VIDEO_FILES := $(if $(VIDEOS),$(sort $(wildcard $(VIDEOS)/*)))
ifneq ($(VIDEOS),)
ifeq ($(VIDEO_FILES),)
$(error VIDEOS=$(VIDEOS): no files in it)
endif
endif
CONTRAST_METRICS := $(if $(VIDEO_FILES),$(OUT)/metrics-contrastive.tsv,$(OUT)/metrics-contrastive.missing)

ROWS := $(OUT)/metrics-baseline.tsv $(IAL_METRICS) $(CONTRAST_METRICS)
FILES := $(addprefix $(OUT)/,images.tsv train.tsv test.tsv table.tsv table.md) $(ROWS) \
    $(patsubst $(OUT)/metrics-%.tsv,$(OUT)/%.safetensors,$(filter %.tsv,$(ROWS))) \
    $(if $(VIDEO_FILES),$(addprefix $(OUT)/,videos/frames.tsv videos/faces.tsv \
      videos/pretext-contrastive.tsv pretrained-contrastive.safetensors))

.PHONY: all
all: $(FILES)

# ---- RAF-DB ----

$(OUT)/images.tsv:
	@mkdir -p $(OUT)
	$(BIN)/fer-extract -q -j 2 --dataset rafdb -o $(abspath $(OUT))/images $(RAFDB) > $@.tmp
	mv $@.tmp $@

$(OUT)/train.tsv: $(OUT)/images.tsv
	$(TABLE_UTIL) equal split train $< | $(TABLE_UTIL) nonempty label /dev/stdin > $@.tmp
	mv $@.tmp $@

$(OUT)/test.tsv: $(OUT)/images.tsv
	$(TABLE_UTIL) equal split test $< | $(TABLE_UTIL) nonempty label /dev/stdin > $@.tmp
	mv $@.tmp $@

# ---- contrastive pretraining on VIDEOS (labels: none) ----

# Every track is kept: other people in the same frame are RMFER's positives.
$(OUT)/videos/frames.tsv: $(VIDEO_FILES)
	@mkdir -p $(@D)
	$(BIN)/fer-extract -q -j 2 -r $(VIDEO_RATE) -o $(abspath $(@D))/frames $(VIDEO_FILES) > $@.tmp
	mv $@.tmp $@

$(OUT)/videos/faces.tsv: $(OUT)/videos/frames.tsv
	$(BIN)/fer-facetrack -q -j 2 --grey --size $(SIZE) $(FACETRACK_OPTS) \
	    -o $(abspath $(@D))/crops $< > $@.tmp
	mv $@.tmp $@

$(OUT)/videos/pretext-contrastive.tsv: $(OUT)/videos/faces.tsv
	$(BIN)/fer-shuffle-seq -q -t contrastive --seed $(SEED) -o $@ $<

$(OUT)/pretrained-contrastive.safetensors: $(OUT)/videos/pretext-contrastive.tsv
	$(BIN)/fer-pretrain -q -j $(THREADS) --task contrastive --arch $(ARCH) --size $(SIZE) \
	    --epochs $(PRETRAIN_EPOCHS) --seed $(SEED) $(PRETRAIN_OPTS) \
	    --checkpoint-every 200 --checkpoint $@.ckpt $(call resume,$@.ckpt) \
	    --log $(@:.safetensors=.log.tsv) -o $@ $< > $(@:.safetensors=.pretext.tsv).tmp
	mv $(@:.safetensors=.pretext.tsv).tmp $(@:.safetensors=.pretext.tsv)
	rm -f $@.ckpt

# ---- classifiers ----

FINETUNE = $(BIN)/fer-finetune -q -j $(THREADS) --head linear \
    --arch $(ARCH) --size $(SIZE) --channels 1 --epochs $(EPOCHS) --batch $(BATCH) \
    --class-weights auto --seed $(SEED) $(FINETUNE_OPTS) \
    --checkpoint $@.ckpt --resume --log $(@:.safetensors=.log.tsv)

$(OUT)/baseline.safetensors: $(OUT)/train.tsv
	$(FINETUNE) -o $@ $<
	rm -f $@.ckpt

$(OUT)/ial.safetensors: $(OUT)/train.tsv
	$(FINETUNE) --ial -o $@ $<
	rm -f $@.ckpt

$(OUT)/contrastive.safetensors: $(OUT)/train.tsv $(OUT)/pretrained-contrastive.safetensors
	$(FINETUNE) --init $(word 2,$^) -o $@ $<
	rm -f $@.ckpt

$(OUT)/metrics-%.tsv: $(OUT)/%.safetensors $(OUT)/test.tsv
	$(BIN)/fer-eval -q -j $(THREADS) -m $< -o $@ $(word 2,$^)

# A row that cannot be computed says why; its file name differs from the
# real one, so that the row is computed once it can be.
$(OUT)/metrics-ial.missing:
	@mkdir -p $(@D)
	echo 'n/a (fer-finetune --ial missing)' > $@
$(OUT)/metrics-contrastive.missing:
	@mkdir -p $(@D)
	echo 'n/a (no VIDEOS= folder given)' > $@

# ---- the table ----

# $(call row,LABEL,METRICS-FILE)
row = if grep -q '^n/a' $(2); then \
        printf '%s\t%s\t%s\t%s\n' '$(1)' "$$(cat $(2))" "$$(cat $(2))" '-'; \
      else \
        awk -F'\t' -v OFS='\t' -v l='$(1)' '{ v[$$1] = $$2 } \
          END { printf "%s\t%.2f\t%.2f\t-\n", l, 100 * v["overall_accuracy"], 100 * v["average_accuracy"] }' $(2); \
      fi;

$(OUT)/table.tsv: $(ROWS)
	{ printf 'method\toverall_accuracy_pct\taverage_accuracy_pct\tpublished_pct\n'; \
	  $(call row,baseline,$(word 1,$^)) \
	  $(call row,+ IAL,$(word 2,$^)) \
	  $(call row,+ contrastive pretraining,$(word 3,$^)) \
	} > $@.tmp
	mv $@.tmp $@

$(OUT)/table.md: $(OUT)/table.tsv $(OUT)/train.tsv $(OUT)/test.tsv
	{ echo '# RAF-DB: baseline, inter-sample attention, contrastive pretraining'; echo; \
	  $(TABLE_UTIL) markdown $<; echo; \
	  echo 'Accuracy on the test images in percent: overall (correct / all) and average'; \
	  echo '(the mean of the per-class recalls). Published: issue 8 quotes no figure for'; \
	  echo 'RAF-DB (RMFER reports its own; fill them in from the paper).'; echo; \
	  echo "- Data: $$(($$(wc -l < $(OUT)/train.tsv) - 1)) training and $$(($$(wc -l < $(OUT)/test.tsv) - 1))" \
	       'test images, aligned (12,271 and 3,068 in RAF-DB basic).'; \
	  echo "- Model: $(ARCH) on $(SIZE) px grey images, linear head, $(EPOCHS) epochs, batch" \
	       "$(BATCH), class-weighted loss; the last epoch is scored (the test set never" \
	       'chooses an epoch or a setting).'; \
	  echo "- Contrastive pretraining: $(if $(VIDEO_FILES),$(words $(VIDEO_FILES)) video(s) from $(VIDEOS) at $(VIDEO_RATE) frames a second$(comma) every face track$(comma) $(PRETRAIN_EPOCHS) epochs of NT-Xent (fer-pretrain --task contrastive),none (VIDEOS= not given))."; \
	  echo '- Our backbone and input size are smaller than RMFER'"'"'s (ResNet-18):' \
	       'compare the rows with each other.'; \
	} > $@.tmp
	mv $@.tmp $@

comma := ,
