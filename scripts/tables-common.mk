# scripts/tables-common.mk - included by scripts/ckplus.mk, afew.mk and
# rafdb.mk: the shell, the tool and helper paths, and the resumable-training
# idiom they share.

# A pipeline fails when any of its stages fails, not only the last.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# Every target is a file written under a temporary name and renamed; a
# failed recipe leaves no target behind.  Each Makefile names every file it
# makes as a prerequisite of all, so none is an intermediate file: none is
# deleted after the run, and one that is removed is made again, with what
# depends on it, and nothing else.  (A global .SECONDARY would keep them but
# would not remake a removed one.)
.DELETE_ON_ERROR:
.SUFFIXES:

BIN     ?= build/bin
SEED    ?= 1
# Threads per training run (-j of the tools); make -j N runs N runs at once.
THREADS ?= 1
TABLE_UTIL := $(dir $(lastword $(MAKEFILE_LIST)))table-util

ifeq ($(wildcard $(BIN)/fer-finetune),)
$(error $(BIN)/fer-finetune not found: run make first, or set BIN=)
endif

# $(call resume,CHECKPOINT): --resume when a killed run left a checkpoint.
# (fer-pretrain refuses --resume without one; fer-finetune would accept it.)
resume = $$([ -f $(1) ] && echo --resume)
