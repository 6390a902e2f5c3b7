/*
 * gh-100227 extension-module cache (CPython 3.12 alphas), hand-written in
 * Promela for the SPIN side of benchmarks/run.py.  Same transition system as
 * models/extcache.spec, step for step:
 *
 *   - every top-level statement of a procedure is one atomic step (d_step);
 *   - an `if` on state is a step of its own (a bare guard), its branch
 *     statements are further steps; an `if` on parameters takes no step
 *     (it is a preprocessor #if here);
 *   - `acquire` blocks until the lock is free;
 *   - `switch to main via main_tstate [keep_gil]` is one step (bind, [drop
 *     the GIL,] remember the interpreter, make main current), plus one step
 *     to take main's GIL when the GIL is not kept; when the thread already
 *     is in main it is a do-nothing step;
 *   - procedure arguments are stored per thread and procedure when the
 *     procedure is called (the call is a step) and are kept after it
 *     returns, exactly as speccheck keeps them.
 *
 * Parameters (cpp macros):
 *   -DINTERPS=n -DTHREADS=n   sizes (default 2 and 2; KEYS is fixed at 2)
 *   -DGIL_OWN                 GIL=own (default: GIL=shared)
 *   -DLOCK_MUTEX              LOCK=mutex (default: LOCK=placeholder)
 *   -DSWAP_DROP_GIL           SWAP=drop_gil (default: SWAP=pointer)
 *   -DONLY_R1                 assert R1 only (like `speccheck --only R1`)
 *
 * Properties, as assertions checked inside the step that speccheck checks
 * them in: R1, R2, memory, tstate, lock_sanity, and the invariants
 * items_owned_by_main and dict_owned_by_main (asserted after every step that
 * writes the cache, which is every step that can change them).  Deadlock is
 * left to pan's invalid-end-state check (a global deadlock; speccheck's
 * wait-for-cycle check is stronger: it also sees two threads stuck while a
 * third runs on).
 *
 * Interpreters are 0 (main), 1 (sub1), ...; threads 0 (t1), 1 (t2), ...;
 * 255 is `none`.  Locks: holder[i] is gil(i) (only holder[0] is used with a
 * shared GIL); holder[INTERPS] is ext_lock.
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

#ifdef GIL_OWN
#define GIL(i) (i)
#else
#define GIL(i) 0
#endif
#define EXT_LOCK INTERPS

/* the cache is guarded_by (if LOCK == mutex then ext_lock else gil(main)) */
#ifdef LOCK_MUTEX
#define GUARD EXT_LOCK
#else
#define GUARD GIL(MAIN)
#endif

/* Which properties are asserted. */
#define CHECK_R1(c) assert(c)
#ifdef ONLY_R1
#define CHECK_R2(c) skip
#define CHECK_MEM(c) skip
#define CHECK_TS(c) skip
#define CHECK_LS(c) skip
#define CHECK_INV skip
#define ACQ_OK(l) (holder[l] == NONE)
#else
#define CHECK_R2(c) assert(c)
#define CHECK_MEM(c) assert(c)
#define CHECK_TS(c) assert(c)
#define CHECK_LS(c) assert(c)
#define CHECK_INV assert((owner == NONE || owner == MAIN) && \
                         (item[0] == NONE || item[0] == MAIN) && \
                         (item[1] == NONE || item[1] == MAIN))
/* a holder re-acquiring a mutex is a lock_sanity violation: let the step run
   so that its assertion fails (speccheck reports it on the blocked step) */
#define ACQ_OK(l) (holder[l] == NONE || holder[l] == t)
#endif

/* every interpreter has its own allocator in this model */
#define NOT_CURRENT(o) ((o) != NONE && (o) != cur[t])

byte holder[INTERPS + 1] = NONE;  /* lock -> holding thread */
byte cur[THREADS];                /* current interpreter of each thread */
byte saved[THREADS] = NONE;       /* where `switch back` returns */
byte owner = NONE;                /* owner(cache): allocated by, or none */
byte item[KEYS] = NONE;           /* owner(cache[k]) */
byte bound = NONE;                /* bound(main_tstate) */
byte set_k[THREADS];              /* argument k of cache_set, per thread */
byte get_k[THREADS];              /* argument k of cache_get, per thread */

/* acquire L: blocks until free; re-acquire by the holder is lock_sanity */
#define ACQUIRE(l) \
  d_step { ACQ_OK(l) -> CHECK_LS(holder[l] != t); holder[l] = t }
#define ACQUIRE_GIL \
  d_step { ACQ_OK(GIL(cur[t])) -> CHECK_TS(cur[t] != NONE); \
           CHECK_LS(holder[GIL(cur[t])] != t); holder[GIL(cur[t])] = t }
/* release L (inside a step): only the holder frees it */
#define RELEASE_IN(l) \
  CHECK_LS(holder[l] == t); \
  if :: holder[l] == t -> holder[l] = NONE :: else -> skip fi
#define RELEASE(l) d_step { RELEASE_IN(l) }

#define TOUCH CHECK_TS(cur[t] != NONE); CHECK_R1(holder[GUARD] == t)

proctype Thread(byte t)
{
  do  /* idle: call cache_set(k) or cache_get(k); the call is one step */
  :: if :: set_k[t] = 0 :: set_k[t] = 1 fi;
  ACQUIRE_GIL;
#ifdef LOCK_MUTEX
  ACQUIRE(EXT_LOCK);
#endif
  /* switch to main via main_tstate [keep_gil] */
  if
  :: d_step { cur[t] != MAIN ->
       CHECK_TS(bound == NONE || bound == t); bound = t;
#ifdef SWAP_DROP_GIL
       RELEASE_IN(GIL(cur[t]));
#endif
       saved[t] = cur[t]; cur[t] = MAIN }
#ifdef SWAP_DROP_GIL
     ; ACQUIRE_GIL                       /* (take main's GIL) */
#endif
  :: cur[t] == MAIN                      /* already there: nothing to do */
  fi;
  /* if not alive(cache) { alloc cache } */
  if
  :: owner == NONE ->
     d_step { TOUCH; CHECK_MEM(owner == NONE);
              owner = cur[t]; item[0] = NONE; item[1] = NONE; CHECK_INV }
  :: else
  fi;
  /* insert cache[k] */
  d_step { TOUCH; CHECK_MEM(owner != NONE);
           CHECK_R2(!(item[set_k[t]] == NONE && NOT_CURRENT(owner)));
           CHECK_R2(!NOT_CURRENT(item[set_k[t]]));
           if :: owner != NONE -> item[set_k[t]] = cur[t] :: else -> skip fi;
           CHECK_INV };
  /* switch back [keep_gil] */
  if
  :: d_step { saved[t] != NONE ->
#ifdef SWAP_DROP_GIL
       RELEASE_IN(GIL(cur[t]));
#endif
       cur[t] = saved[t]; saved[t] = NONE; bound = NONE }
#ifdef SWAP_DROP_GIL
     ; ACQUIRE_GIL                       /* (take the GIL back) */
#endif
  :: saved[t] == NONE                    /* had not switched: nothing to do */
  fi;
#ifdef LOCK_MUTEX
  RELEASE(EXT_LOCK);
#endif
  RELEASE(GIL(cur[t]))

  :: if :: get_k[t] = 0 :: get_k[t] = 1 fi;
  ACQUIRE_GIL;
#ifdef LOCK_MUTEX
  ACQUIRE(EXT_LOCK);
#endif
  /* if alive(cache) { read cache[k] } */
  if
  :: owner != NONE -> d_step { TOUCH; CHECK_MEM(owner != NONE) }
  :: else
  fi;
#ifdef LOCK_MUTEX
  RELEASE(EXT_LOCK);
#endif
  RELEASE(GIL(cur[t]))
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
