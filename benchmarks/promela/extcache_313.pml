/*
 * The CPython 3.13+ extension-module cache (raw hashtable, PyMutex that drops
 * the GIL while it waits, single-phase init run in main), hand-written in
 * Promela for the SPIN side of benchmarks/run.py.  Same transition system
 * as models/extcache_313.spec, step for step:
 *
 *   - every top-level statement of a procedure is one atomic step (d_step);
 *     `atomic { ... }` in the .spec is one d_step here;
 *   - an `if` on state is a step of its own (a bare guard), the statement in
 *     its branch another one;
 *   - `acquire gil` blocks until the GIL of the current interpreter is free;
 *   - `switch to main` (no keep_gil) is one step (drop the GIL, remember the
 *     interpreter, make main current) and one more to take main's GIL; a
 *     do-nothing step when the thread already is in main; `switch back` is
 *     the mirror image;
 *   - `acquire ext_mutex` (releases_gil) follows the PyMutex slow path:
 *     take it if free; otherwise drop the GIL (one step), wait for the mutex
 *     (one step), re-take the GIL (one step);
 *   - procedure arguments are stored per thread and procedure by the call
 *     step and kept after the procedure returns, as speccheck keeps them.
 *
 * Parameters (cpp macros):
 *   -DINTERPS=n -DTHREADS=n   sizes (default 2 and 2; KEYS is fixed at 2)
 *   -DGIL_SHARED              GIL=shared (default: GIL=own)
 *   -DOBMALLOC_LEGACY         OBMALLOC=legacy (default: isolated)
 *   -DCHECK_OFF               CHECK=false (default: true)
 *   -DONLY_R1                 assert R1 only (like `speccheck --only R1`)
 *
 * Properties, as assertions inside the step that speccheck checks them in:
 * R1, R2, memory, tstate, lock_sanity, the invariant m_dicts_owned_by_main
 * (after every step that writes m_dicts) and config_accepted (a constant,
 * asserted once at start).  Deadlock is left to pan's invalid-end-state
 * check.
 *
 * Interpreters are 0 (main), 1 (sub1), ...; threads 0 (t1), 1 (t2), ...;
 * 255 is `none`.  holder[i] is gil(i) (only holder[0] with a shared GIL);
 * holder[INTERPS] is ext_mutex.
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
#define EXT_MUTEX INTERPS

#ifdef OBMALLOC_LEGACY
#define ALLOCATOR(i) MAIN
#else
#define ALLOCATOR(i) (i)
#endif
#define NOT_CURRENT(o) ((o) != NONE && ALLOCATOR(o) != ALLOCATOR(cur[t]))

/* refuses_single_phase(i) = i != none and i != main and CHECK */
#ifdef CHECK_OFF
#define REFUSES(i) false
#define CONFIG_ACCEPTED (ALLOCATOR(1) == MAIN)
#else
#define REFUSES(i) ((i) != NONE && (i) != MAIN)
#define CONFIG_ACCEPTED true
#endif

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
#define CHECK_INV assert((md_item[0] == NONE || md_item[0] == MAIN) && \
                         (md_item[1] == NONE || md_item[1] == MAIN))
#define ACQ_OK(l) (holder[l] == NONE || holder[l] == t)
#endif

byte holder[INTERPS + 1] = NONE;  /* lock -> holding thread */
byte cur[THREADS];                /* current interpreter of each thread */
byte saved[THREADS] = NONE;       /* where `switch back` returns */
byte c_owner = NONE;              /* owner(cache), a raw hashtable */
byte c_item[KEYS] = NONE;         /* owner(cache[k]) */
byte md_owner = NONE;             /* owner(m_dicts), raw */
byte md_item[KEYS] = NONE;        /* owner(m_dicts[k]): the m_dict copies */
byte first_k[THREADS];            /* argument k of import_first */
byte again_k[THREADS];            /* argument k of import_again */

#define ACQUIRE(l) \
  d_step { ACQ_OK(l) -> CHECK_LS(holder[l] != t); holder[l] = t }
#define ACQUIRE_GIL \
  d_step { ACQ_OK(GIL(cur[t])) -> CHECK_TS(cur[t] != NONE); \
           CHECK_LS(holder[GIL(cur[t])] != t); holder[GIL(cur[t])] = t }
#define RELEASE_IN(l) \
  CHECK_LS(holder[l] == t); \
  if :: holder[l] == t -> holder[l] = NONE :: else -> skip fi
#define RELEASE(l) d_step { RELEASE_IN(l) }

/* acquire ext_mutex, PyMutex style */
#define ACQUIRE_EXT_MUTEX \
  if \
  :: d_step { holder[EXT_MUTEX] == NONE -> holder[EXT_MUTEX] = t } \
  :: d_step { holder[EXT_MUTEX] != NONE -> RELEASE_IN(GIL(cur[t])) }; \
     ACQUIRE(EXT_MUTEX);   /* (waiting, GIL released) */ \
     ACQUIRE_GIL           /* (re-take the GIL) */ \
  fi

/* cache is raw shared guarded_by ext_mutex; m_dicts raw shared guarded_by gil(main) */
#define TOUCH_CACHE CHECK_TS(cur[t] != NONE); CHECK_R1(holder[EXT_MUTEX] == t)
#define TOUCH_MD CHECK_TS(cur[t] != NONE); CHECK_R1(holder[GIL(MAIN)] == t)

proctype Thread(byte t)
{
  do  /* idle: call a procedure; the call is one step */
  :: if :: first_k[t] = 0 :: first_k[t] = 1 fi;
     /* import_run_extension */
     ACQUIRE_GIL;
     /* switch to main: switch_to_main_interpreter() */
     if
     :: d_step { cur[t] != MAIN -> RELEASE_IN(GIL(cur[t]));
                 saved[t] = cur[t]; cur[t] = MAIN };
        ACQUIRE_GIL                              /* (take main's GIL) */
     :: cur[t] == MAIN                           /* already there */
     fi;
     ACQUIRE_EXT_MUTEX;
     /* if not alive(cache) { atomic { alloc cache  alloc m_dicts } } */
     if
     :: c_owner == NONE ->
        d_step { TOUCH_CACHE; CHECK_MEM(c_owner == NONE);
                 c_owner = cur[t]; c_item[0] = NONE; c_item[1] = NONE;
                 TOUCH_MD; CHECK_MEM(md_owner == NONE);
                 md_owner = cur[t]; md_item[0] = NONE; md_item[1] = NONE;
                 CHECK_INV }
     :: else
     fi;
     /* if not has(cache, k) { atomic { insert cache[k]  insert m_dicts[k] } } */
     if
     :: c_item[first_k[t]] == NONE ->
        d_step { TOUCH_CACHE; CHECK_MEM(c_owner != NONE);
                 /* raw container: adding a key is no R2 matter */
                 CHECK_R2(!NOT_CURRENT(c_item[first_k[t]]));
                 if :: c_owner != NONE -> c_item[first_k[t]] = cur[t] :: else -> skip fi;
                 TOUCH_MD; CHECK_MEM(md_owner != NONE);
                 CHECK_R2(!NOT_CURRENT(md_item[first_k[t]]));
                 if :: md_owner != NONE -> md_item[first_k[t]] = cur[t] :: else -> skip fi;
                 CHECK_INV }
     :: else
     fi;
     RELEASE(EXT_MUTEX);
     /* switch back: switch_back_from_main_interpreter() */
     if
     :: d_step { saved[t] != NONE -> RELEASE_IN(GIL(cur[t]));
                 cur[t] = saved[t]; saved[t] = NONE };
        ACQUIRE_GIL                              /* (take the GIL back) */
     :: saved[t] == NONE                         /* had not switched */
     fi;
     /* reload_singlephase_extension in a subinterpreter that accepts it */
     if
     :: !REFUSES(cur[t]) && cur[t] != MAIN ->
        d_step { TOUCH_MD; CHECK_MEM(md_owner != NONE) }
     :: else
     fi;
     RELEASE(GIL(cur[t]))

  :: if :: again_k[t] = 0 :: again_k[t] = 1 fi;
     /* import_find_extension */
     ACQUIRE_GIL;
     ACQUIRE_EXT_MUTEX;
     /* if alive(cache) { read cache[k] } */
     if
     :: c_owner != NONE -> d_step { TOUCH_CACHE; CHECK_MEM(c_owner != NONE) }
     :: else
     fi;
     RELEASE(EXT_MUTEX);
     /* if has(cache, k) and not refuses_single_phase(cur(t)) and cur(t) != main */
     if
     :: c_item[again_k[t]] != NONE && !REFUSES(cur[t]) && cur[t] != MAIN ->
        d_step { TOUCH_MD; CHECK_MEM(md_owner != NONE) }
     :: else
     fi;
     RELEASE(GIL(cur[t]))
  od
}

/* Every thread starts in any interpreter (all combinations), idle. */
init {
  byte i, j;
  atomic {
#ifndef ONLY_R1
    assert(CONFIG_ACCEPTED);
#endif
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
