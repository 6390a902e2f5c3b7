/*
 * The CPython 3.11 extension-module cache (`static PyObject *extensions` in
 * Python/import.c) run under 3.12's per-interpreter GIL and obmalloc,
 * hand-written in Promela for the SPIN side of benchmarks/run.py.  Same
 * transition system as models/extcache_311.spec, step for step:
 *
 *   - every top-level statement of a procedure is one atomic step (d_step);
 *   - an `if` on state is a step of its own (a bare guard), the statement in
 *     its branch another one;
 *   - `acquire gil` blocks until the GIL of the thread's current interpreter
 *     is free;
 *   - procedure arguments are stored per thread and procedure by the call
 *     step and kept after the procedure returns, as speccheck keeps them.
 *
 * Parameters (cpp macros):
 *   -DINTERPS=n -DTHREADS=n   sizes (default 2 and 2; KEYS is fixed at 2)
 *   -DGIL_SHARED              GIL=shared (default: GIL=own, as the .spec)
 *   -DOBMALLOC_LEGACY         OBMALLOC=legacy (default: isolated)
 *   -DONLY_R1                 assert R1 only (like `speccheck --only R1`)
 *
 * Properties, as assertions inside the step that speccheck checks them in:
 * R1 (the dict is touched only while holding gil(main)), R2 (adding a key
 * may resize the dict: its allocator must be current; replacing an item
 * frees it: the item's allocator must be current), memory (no use before
 * alloc, no second alloc that leaks the first dict), tstate and lock_sanity.
 * Deadlock is left to pan's invalid-end-state check.
 *
 * Interpreters are 0 (main), 1 (sub1), ...; threads 0 (t1), 1 (t2), ...;
 * 255 is `none`.  holder[i] is gil(i); with a shared GIL only holder[0].
 */

#ifndef INTERPS
#define INTERPS 2
#endif
#ifndef THREADS
#define THREADS 2
#endif
#define KEYS 2
#define NONE 255
#define MAIN 0

#ifdef GIL_SHARED
#define GIL(i) 0
#else
#define GIL(i) (i)
#endif

/* the allocator an interpreter uses (shares_main_obmalloc) */
#ifdef OBMALLOC_LEGACY
#define ALLOCATOR(i) MAIN
#else
#define ALLOCATOR(i) (i)
#endif
#define NOT_CURRENT(o) ((o) != NONE && ALLOCATOR(o) != ALLOCATOR(cur[t]))

#define CHECK_R1(c) assert(c)
#ifdef ONLY_R1
#define CHECK_R2(c) skip
#define CHECK_MEM(c) skip
#define CHECK_TS(c) skip
#define CHECK_LS(c) skip
#define ACQ_OK(l) (holder[l] == NONE)
#else
#define CHECK_R2(c) assert(c)
#define CHECK_MEM(c) assert(c)
#define CHECK_TS(c) assert(c)
#define CHECK_LS(c) assert(c)
#define ACQ_OK(l) (holder[l] == NONE || holder[l] == t)
#endif

byte holder[INTERPS] = NONE;   /* gil(i) -> holding thread */
byte cur[THREADS];             /* current interpreter of each thread */
byte owner = NONE;             /* owner(extensions) */
byte item[KEYS] = NONE;        /* owner(extensions[k]) */
byte fix_k[THREADS];           /* argument k of fixup_extension */
byte find_k[THREADS];          /* argument k of find_extension */

#define ACQUIRE_GIL \
  d_step { ACQ_OK(GIL(cur[t])) -> CHECK_TS(cur[t] != NONE); \
           CHECK_LS(holder[GIL(cur[t])] != t); holder[GIL(cur[t])] = t }
#define RELEASE_GIL \
  d_step { CHECK_LS(holder[GIL(cur[t])] == t); \
           if :: holder[GIL(cur[t])] == t -> holder[GIL(cur[t])] = NONE \
              :: else -> skip fi }

/* extensions is shared guarded_by gil(main) */
#define TOUCH CHECK_TS(cur[t] != NONE); CHECK_R1(holder[GIL(MAIN)] == t)

proctype Thread(byte t)
{
  do  /* idle: call a procedure; the call is one step */
  :: if :: fix_k[t] = 0 :: fix_k[t] = 1 fi;
     /* _PyImport_FixupExtensionObject */
     ACQUIRE_GIL;
     /* if not alive(extensions) { alloc extensions }: PyDict_New() */
     if
     :: owner == NONE ->
        d_step { TOUCH; CHECK_MEM(owner == NONE);
                 owner = cur[t]; item[0] = NONE; item[1] = NONE }
     :: else
     fi;
     /* insert extensions[k]: PyDict_SetItem, new key may resize */
     d_step { TOUCH; CHECK_MEM(owner != NONE);
              CHECK_R2(!(item[fix_k[t]] == NONE && NOT_CURRENT(owner)));
              CHECK_R2(!NOT_CURRENT(item[fix_k[t]]));
              if :: owner != NONE -> item[fix_k[t]] = cur[t] :: else -> skip fi };
     RELEASE_GIL

  :: if :: find_k[t] = 0 :: find_k[t] = 1 fi;
     /* _PyImport_FindExtensionObject */
     ACQUIRE_GIL;
     /* if alive(extensions) { read extensions[k] } */
     if
     :: owner != NONE -> d_step { TOUCH; CHECK_MEM(owner != NONE) }
     :: else
     fi;
     RELEASE_GIL
  od
}

/* Every thread starts in any interpreter (all combinations), idle. */
init {
  byte i, j;
  atomic {
    i = 0;
    do
    :: i < THREADS -> select(j : 0 .. INTERPS - 1); cur[i] = j; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < THREADS -> run Thread(i); i++
    :: else -> break
    od;
    i = 0; j = 0
  }
}
