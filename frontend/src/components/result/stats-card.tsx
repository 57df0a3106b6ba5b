// Every stat of a done run, in three groups (returns, risk, trades), each value with its unit.

import { Card } from "@/components/ui";

import { statGroups } from "./stat-groups";

const TONES = { gain: "text-emerald-700 dark:text-emerald-400", loss: "text-rose-700 dark:text-rose-400" };

export function StatsCard({ stats, quote }: { stats: Record<string, unknown> | undefined; quote: string }) {
  const groups = statGroups(stats, quote);
  return (
    <Card title="Statistics" className="mb-6">
      <div className="grid gap-6 md:grid-cols-3" data-testid="stats">
        {groups.map((group) => (
          <section key={group.title} aria-labelledby={`stats-${group.title}`} className={group.title === "Other" ? "md:col-span-3" : ""}>
            <h3 id={`stats-${group.title}`} className="mb-2 border-b border-slate-200 pb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:border-slate-700 dark:text-slate-400">
              {group.title}
            </h3>
            <dl className="grid grid-cols-[minmax(0,1fr)_auto] gap-x-4 gap-y-1.5 text-sm">
              {group.items.map((item) => (
                <div key={item.key} className="contents" data-testid={`stat-${item.key}`}>
                  <dt className="text-slate-600 dark:text-slate-400" title={item.hint}>
                    {item.label}
                  </dt>
                  <dd className={`tabular text-right font-medium ${item.tone ? TONES[item.tone] : ""}`} title={item.hint}>
                    {item.value}
                  </dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Card>
  );
}
