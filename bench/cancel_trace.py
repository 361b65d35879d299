"""Where each slow cancel's time went: lines up cancel.py's CANCEL_LOG (client timestamps) with
the server's FRESHET_TRACE=1 lines (same CLOCK_MONOTONIC). Usage: cancel_trace.py CANCEL_LOG
SERVER_LOG [N]; prints the N slowest runs (8): the client's latency, and when after the
client's cancel the server accepted the cancel connection, read the CancelRequest, saw the
flag in the executing thread, and sent the 57014; and how many reaper frees overlapped.
bench/cancel.sh writes both files when CANCEL_TRACE_DIR is set."""
import sys
runs=[l.split() for l in open(sys.argv[1])]
ev=[]
for l in open(sys.argv[2]):
    p=l.split(None,3)
    if p and p[0]=='freshet-trace': ev.append((float(p[1]),p[3].strip()))
rows=[]
for r in runs:
    sent=float(r[5]); err=float(r[7]); lat=float(r[9])
    e=[(t,w) for t,w in ev if sent-0.001<=t<=err+0.001]
    def first(w):
        for t,x in e:
            if x.startswith(w): return (t-sent)*1000
        return None
    rows.append((lat, first('pgwire: accepted'), first('pgwire: cancel request read'), first('cancel seen'), first('pgwire: sent error'), [x for t,x in e if 'reaper' in x and 'freeing' in x].__len__()))
rows.sort(reverse=True)
print("latency  accept  read  seen  sent  (ms after the client's cancel; reaper frees during)")
for r in rows[:int(sys.argv[3]) if len(sys.argv)>3 else 8]:
    print("  ".join("%6.1f"%x if isinstance(x,float) else str(x) for x in r))
