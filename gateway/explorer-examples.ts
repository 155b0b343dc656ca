/**
 * The explorer's collection of example operations: the README's example queries (so
 * test/readme.e2e.test.ts keeps their answers true; gateway/explorer-examples.test.ts checks
 * that each is in the README) and one operation with variables, to show the variables
 * editor. The explorer opens each as a tab.
 */

/** One example operation of the explorer. */
export interface ExplorerExample {
  /** The question the operation answers, shown as a comment above it. */
  readonly title: string;
  /** The operation, exactly as the README shows it. */
  readonly query: string;
  /** Variables as JSON text, for operations that take some. */
  readonly variables?: string;
}

/** The examples, in the README's order; the first is the tab the explorer opens on. */
export const EXPLORER_EXAMPLES: readonly ExplorerExample[] = [
  {
    title: 'How does R2 differ between London and the South?',
    query: `query R2AcrossClusters {
  compareRelease(code: "R2", asOf: "2007-09-06") {
    release { name spineCompliant dueYear }
    divergent
    aspects { aspect differs values { cluster { id } value } }
  }
}
`,
  },
  {
    title: "Why do they differ? The South's R2 design was suspended, London's was not",
    query: `query SuspendedInTheSouth {
  release(code: "R2") {
    south(asOf: "2007-09-06") { localName designStatus designSuspendedOn contractReset { status since } }
    london(asOf: "2007-09-06") { localName designStatus designSuspendedOn nonAcuteProducts { name careSetting } }
  }
}
`,
  },
  {
    title: 'Which trusts are live on R0?',
    query: `query LiveOnR0 {
  release(code: "R0") {
    south(asOf: "2007-09-06") { trustsLive rollout { trust { odsCode } status } }
    london(asOf: "2007-09-06") { trustsLive rollout { trust { odsCode } status } }
  }
}
`,
  },
  {
    title: "Which capabilities does one cluster's R0 lack?",
    query: `query CapabilityGaps {
  compareRelease(code: "R0", asOf: "2007-09-06") {
    capabilities { capability presentIn { id } missingFrom { id } }
  }
}
`,
  },
  {
    title: 'One trust across clusters',
    query: `query OneTrustEverywhere {
  trust(odsCode: "RVL") {
    name
    cluster { id serviceProvider { name } }
    rolloutAcrossClusters(asOf: "2007-09-06") { cluster { id } release { code } status localStatus actualGoLive note }
  }
}
`,
  },
  {
    title: 'The programme: its 2010 target, NLOP and the clusters',
    query: `query Programme {
  programme { completionTargetYear localOwnership { code name } }
  clusters { id name serviceProvider { id } trustsPlanned }
}
`,
  },
  {
    title: "How did the South's R2 plan move between June 2007 and June 2008?",
    query: `query SouthR2Slippage {
  release(code: "R2") {
    south {
      history(from: "2007-06-01", to: "2008-06-30") { asOf designStatus designSuspendedOn plannedYear }
    }
  }
}
`,
  },
  {
    title: "Did London and the South agree on R2's design before the suspension?",
    query: `query R2BeforeAndAfterTheSuspension {
  june: compareRelease(code: "R2", asOf: "2007-06-30") { divergent aspects { aspect differs } }
  september: compareRelease(code: "R2", asOf: "2007-09-30") { divergent snapshots { cluster { id } asOf } }
}
`,
  },
  {
    title: 'One trust then and now: Worthing',
    query: `query WorthingOverTime {
  then: trust(odsCode: "RPL") { rolloutAcrossClusters(asOf: "2007-09-06") { asOf status localStatus plannedGoLive } }
  now: trust(odsCode: "RPL") { rolloutAcrossClusters { asOf status localStatus actualGoLive } }
}
`,
  },
  {
    title: 'Are the feeds fresh?',
    query: `query FeedFreshness {
  feeds { id cluster { id } supplier { id } current { asOf file } snapshots lastRejected { file } store { backend available } }
}
`,
  },
  {
    title: 'The matrix, live: run it, then drop a report into a feed folder',
    query: `query LiveMatrix @live {
  releases { code south { designStatus trustsLive } london { designStatus trustsLive } }
}
`,
  },
  {
    title: 'Compare any release on any day (edit the variables below)',
    query: `query CompareOnADay($code: ID!, $asOf: Date) {
  compareRelease(code: $code, asOf: $asOf) {
    release { code name }
    divergent
    aspects { aspect differs values { cluster { id } value } }
  }
}
`,
    variables: '{\n  "code": "R2",\n  "asOf": "2007-09-06"\n}',
  },
];

/** The text of an example's tab: its question as a comment, then the operation. */
export function exampleTabQuery(example: ExplorerExample): string {
  return `# ${example.title}\n${example.query}`;
}
