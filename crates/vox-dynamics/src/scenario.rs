//! Scenario files: TOML describing the model, graph, scheduler, seed and recording, with
//! `KEY=VALUE` overrides on dotted paths, and errors that name the file, the line and the key.
//!
//! ```toml
//! model = "hk"               # degroot | friedkin_johnsen | hk | deffuant | voter | q_voter |
//!                            # majority | sir | seir | maki_thompson | misinformation
//! seed = 42
//! n_agents = 1001
//! max_steps = 1000           # sweeps; default 10000
//! scheduler = "synchronous"  # synchronous | random_sequential | shuffled_sweep | pairwise
//!
//! [graph]                    # default: the implicit complete graph
//! kind = "complete"          # complete | erdos_renyi | watts_strogatz | barabasi_albert | sbm | edge_list
//!
//! [params]
//! epsilon = 0.2
//! initial = { kind = "grid", low = 0.0, high = 1.0 }
//!
//! [record]
//! outputs = ["mean", "variance", "n_clusters", "consensus"]
//! every = 1
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::error::{DynamicsError, Result};
use crate::graph::{self, EdgeListFormat, Graph, Topology};
use crate::models::*;
use crate::record::{Output, RecordConfig};
use crate::schedule::Scheduler;
use crate::sim::{Runnable, Simulation};

/// The models a scenario can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// [`DeGroot`].
    DeGroot,
    /// [`FriedkinJohnsen`].
    FriedkinJohnsen,
    /// [`HegselmannKrause`], or [`HkComplete`] on the complete graph under synchronous updates.
    Hk,
    /// [`Deffuant`].
    Deffuant,
    /// [`QVoter`] with q = 1.
    Voter,
    /// [`QVoter`].
    QVoter,
    /// [`MajorityRule`].
    Majority,
    /// [`Compartmental`] without an exposed state.
    Sir,
    /// [`Compartmental`] with an exposed state.
    Seir,
    /// [`MakiThompson`].
    MakiThompson,
    /// [`Misinformation`].
    Misinformation,
}

impl ModelKind {
    /// All kinds with their scenario names.
    pub const ALL: [(&'static str, ModelKind); 11] = [
        ("degroot", ModelKind::DeGroot),
        ("friedkin_johnsen", ModelKind::FriedkinJohnsen),
        ("hk", ModelKind::Hk),
        ("deffuant", ModelKind::Deffuant),
        ("voter", ModelKind::Voter),
        ("q_voter", ModelKind::QVoter),
        ("majority", ModelKind::Majority),
        ("sir", ModelKind::Sir),
        ("seir", ModelKind::Seir),
        ("maki_thompson", ModelKind::MakiThompson),
        ("misinformation", ModelKind::Misinformation),
    ];

    /// The scheduler used when a scenario names none.
    pub fn default_scheduler(self) -> Scheduler {
        match self {
            ModelKind::Deffuant => Scheduler::Pairwise,
            ModelKind::Voter
            | ModelKind::QVoter
            | ModelKind::Majority
            | ModelKind::MakiThompson => Scheduler::RandomSequential,
            _ => Scheduler::Synchronous,
        }
    }
}

/// Which graph to build.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphSpec {
    /// The implicit complete graph.
    Complete,
    /// Erdős–Rényi G(n, p).
    ErdosRenyi {
        /// Edge probability.
        p: f64,
    },
    /// Watts–Strogatz.
    WattsStrogatz {
        /// Ring neighbours (even).
        k: usize,
        /// Rewiring probability.
        p: f64,
    },
    /// Barabási–Albert.
    BarabasiAlbert {
        /// Edges per new node.
        m: usize,
    },
    /// Stochastic block model.
    Sbm {
        /// Block sizes.
        sizes: Vec<usize>,
        /// Symmetric block edge probabilities.
        probabilities: Vec<Vec<f64>>,
    },
    /// An edge-list file.
    EdgeList {
        /// File (relative paths are resolved against the scenario's folder).
        path: PathBuf,
        /// Whether rows are directed arcs (`source` listens to `target`).
        directed: bool,
    },
}

/// Model parameters, by model.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelParams {
    /// DeGroot.
    DeGroot(LinearParams),
    /// Friedkin–Johnsen.
    FriedkinJohnsen(FjParams),
    /// Hegselmann–Krause.
    Hk(HkParams),
    /// Deffuant.
    Deffuant(DeffuantParams),
    /// Voter and q-voter.
    QVoter(QVoterParams),
    /// Majority rule.
    Majority(MajorityParams),
    /// SIR and SEIR.
    Compartmental(CompartmentalParams),
    /// Maki–Thompson.
    MakiThompson(MakiThompsonParams),
    /// Misinformation.
    Misinformation(MisinformationParams),
}

/// A parameter grid and replicate count for `vox dynamics sweep`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SweepSpec {
    /// Replicates per grid point; replicate r uses seed `seed + r`. Default 1.
    pub replicates: u64,
    /// Dotted key → values; the sweep runs the Cartesian product, keys in sorted order.
    pub grid: Vec<(String, Vec<Value>)>,
}

/// A parsed, validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Model kind.
    pub model: ModelKind,
    /// Seed of every random draw (graph, initial state, dynamics).
    pub seed: u64,
    /// Number of agents (taken from the graph for `sbm` and `edge_list`).
    pub n_agents: usize,
    /// Sweep limit. Default 10000.
    pub max_steps: u64,
    /// Scheduler.
    pub scheduler: Scheduler,
    /// Graph.
    pub graph: GraphSpec,
    /// Model parameters.
    pub params: ModelParams,
    /// Recording.
    pub record: RecordConfig,
    /// Sweep section, when present.
    pub sweep: Option<SweepSpec>,
    /// The source table after overrides (sweeps re-parse it with more overrides).
    pub table: Table,
    /// Where it came from (for messages and relative paths).
    pub path: PathBuf,
    source: String,
    overridden: BTreeMap<String, String>,
}

/// The file text, its path and the overridden keys, for error messages.
struct Context<'a> {
    path: &'a Path,
    source: &'a str,
    /// Overridden dotted key → the `KEY=VALUE` text that set it.
    overridden: BTreeMap<String, String>,
}

impl Context<'_> {
    fn error(&self, key: &str, reason: impl Into<String>) -> DynamicsError {
        let reason = reason.into();
        // The override that set this key or one inside it, or, for a key the file does not
        // hold (say `topology` for `--set topology.kind=complete`), the one that brought it.
        let in_file = line_of(self.source, key) > 0;
        if let Some((_, assignment)) = self.overridden.iter().find(|(k, _)| {
            key == k.as_str()
                || key.starts_with(&format!("{k}."))
                || (!in_file && k.starts_with(&format!("{key}.")))
        }) {
            return DynamicsError::Override {
                assignment: assignment.clone(),
                reason: format!("key `{key}`: {reason}"),
            };
        }
        DynamicsError::Scenario {
            path: self.path.to_path_buf(),
            line: line_of(self.source, key),
            key: key.to_string(),
            reason,
        }
    }
}

/// 1-based line where the dotted `key` (or its nearest ancestor) is written; 0 when absent.
fn line_of(source: &str, key: &str) -> usize {
    let stripped: String = {
        // "params.interventions[1].reach" → "params.interventions.reach"
        let mut out = String::new();
        let mut depth = 0;
        for c in key.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut candidate = stripped.as_str();
    loop {
        let mut header = String::new();
        for (number, raw) in source.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('[') {
                let name = line
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim();
                header = name.to_string();
                if header == candidate {
                    return number + 1;
                }
                continue;
            }
            if let Some((lhs, _)) = line.split_once('=') {
                let lhs = lhs.trim().trim_matches('"');
                let full = if header.is_empty() {
                    lhs.to_string()
                } else {
                    format!("{header}.{lhs}")
                };
                if full == candidate && !line.starts_with('#') {
                    return number + 1;
                }
            }
        }
        match candidate.rsplit_once('.') {
            Some((parent, _)) => candidate = parent,
            None => return 0,
        }
    }
}

/// Reads a table, remembering which keys were used so that unknown keys can be reported.
struct Reader<'a> {
    context: &'a Context<'a>,
    prefix: String,
    table: &'a Table,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Reader<'a> {
    fn new(context: &'a Context<'a>, prefix: &str, table: &'a Table) -> Self {
        Self {
            context,
            prefix: prefix.to_string(),
            table,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    fn key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn error(&self, key: &str, reason: impl Into<String>) -> DynamicsError {
        self.context.error(&self.key(key), reason)
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.used.borrow_mut().insert(key.to_string());
        self.table.get(key)
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Float(x)) => Ok(Some(*x)),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(other) => Err(self.error(
                key,
                format!("expected a number, found {}", other.type_str()),
            )),
        }
    }

    fn required_f64(&self, key: &str) -> Result<f64> {
        self.f64(key)?
            .ok_or_else(|| self.error(key, "missing (required for this model)"))
    }

    fn u64(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(other) => Err(self.error(
                key,
                format!("expected a non-negative integer, found `{other}`"),
            )),
        }
    }

    fn usize(&self, key: &str) -> Result<Option<usize>> {
        Ok(self.u64(key)?.map(|v| v as usize))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(key, format!("expected true or false, found `{other}`"))),
        }
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.error(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn f64_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Float(x)) => Ok(Some(vec![*x])),
            Some(Value::Integer(i)) => Ok(Some(vec![*i as f64])),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(k, item)| match item {
                    Value::Float(x) => Ok(*x),
                    Value::Integer(i) => Ok(*i as f64),
                    other => Err(self.error(
                        &format!("{key}[{k}]"),
                        format!("expected a number, found `{other}`"),
                    )),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(other) => Err(self.error(
                key,
                format!(
                    "expected a number or an array of numbers, found {}",
                    other.type_str()
                ),
            )),
        }
    }

    fn table(&self, key: &str) -> Result<Option<Reader<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Reader::new(self.context, &self.key(key), t))),
            Some(other) => {
                Err(self.error(key, format!("expected a table, found {}", other.type_str())))
            }
        }
    }

    /// Rejects keys outside `allowed` before anything is read, so that a misspelt key is
    /// reported as such rather than as the required key it was meant to be.
    fn reject_unknown(&self, allowed: &[&str]) -> Result<()> {
        for key in self.table.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(self.error(
                    key,
                    format!("unknown key; known keys here: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Rejects keys that were never read.
    fn finish(&self, allowed: &[&str]) -> Result<()> {
        let used = self.used.borrow();
        for key in self.table.keys() {
            if !used.contains(key) {
                let hint = if allowed.is_empty() {
                    String::new()
                } else {
                    format!("; known keys here: {}", allowed.join(", "))
                };
                return Err(self.error(key, format!("unknown key{hint}")));
            }
        }
        Ok(())
    }
}

/// Parses `KEY=VALUE` into a dotted key and a TOML value (`VALUE` is read as TOML when it
/// parses, otherwise as a bare string).
fn parse_override(assignment: &str) -> Result<(String, Value)> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| DynamicsError::Override {
            assignment: assignment.to_string(),
            reason: "expected KEY=VALUE".into(),
        })?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(DynamicsError::Override {
            assignment: assignment.to_string(),
            reason: "empty key segment".into(),
        });
    }
    let raw = raw.trim();
    let value = toml::from_str::<Table>(&format!("value = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("value"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    Ok((key.to_string(), value))
}

/// Sets `value` at the dotted `key` of `table`, creating tables on the way.
fn set_dotted(table: &mut Table, key: &str, value: Value, assignment: &str) -> Result<()> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("split yields at least one part");
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        current = match entry {
            Value::Table(t) => t,
            other => {
                return Err(DynamicsError::Override {
                    assignment: assignment.to_string(),
                    reason: format!("`{part}` is a {}, not a table", other.type_str()),
                })
            }
        };
    }
    current.insert(last.to_string(), value);
    Ok(())
}

impl Scenario {
    /// Reads and validates the scenario at `path` with `KEY=VALUE` overrides applied in order.
    ///
    /// # Errors
    /// [`DynamicsError::Io`] when unreadable; [`DynamicsError::Scenario`] naming the line and
    /// key of the first problem; [`DynamicsError::Override`] for a bad override.
    pub fn from_file(path: &Path, overrides: &[String]) -> Result<Self> {
        let source = std::fs::read_to_string(path).map_err(|source| DynamicsError::Io {
            path: path.into(),
            source,
        })?;
        Self::parse(&source, path, overrides)
    }

    /// Parses scenario text; `path` is used in messages and to resolve relative edge lists.
    ///
    /// # Errors
    /// As [`Scenario::from_file`].
    pub fn parse(source: &str, path: &Path, overrides: &[String]) -> Result<Self> {
        let mut table: Table = source.parse::<Table>().map_err(|e| {
            let line = e.span().map_or(0, |span| {
                source[..span.start.min(source.len())].matches('\n').count() + 1
            });
            let key = e
                .span()
                .and_then(|span| {
                    source
                        .lines()
                        .nth(line.saturating_sub(1))
                        .map(|l| (l, span))
                })
                .and_then(|(l, _)| l.split_once('=').map(|(k, _)| k.trim().to_string()))
                .unwrap_or_else(|| "(syntax)".into());
            DynamicsError::Scenario {
                path: path.to_path_buf(),
                line,
                key,
                reason: e.message().trim().to_string(),
            }
        })?;
        let mut overridden = BTreeMap::new();
        for assignment in overrides {
            let (key, value) = parse_override(assignment)?;
            set_dotted(&mut table, &key, value, assignment)?;
            overridden.insert(key, assignment.clone());
        }
        let context = Context {
            path,
            source,
            overridden,
        };
        let mut scenario = Self::read(&context, &table)?;
        scenario.table = table;
        scenario.source = source.to_string();
        scenario.overridden = context.overridden;
        Ok(scenario)
    }

    /// The same scenario with more overrides (used by sweeps).
    ///
    /// # Errors
    /// As [`Scenario::parse`].
    pub fn with_overrides(&self, overrides: &[(String, Value)]) -> Result<Self> {
        let mut table = self.table.clone();
        let mut overridden = self.overridden.clone();
        for (key, value) in overrides {
            let assignment = format!("{key}={value}");
            set_dotted(&mut table, key, value.clone(), &assignment)?;
            overridden.insert(key.clone(), assignment);
        }
        let context = Context {
            path: &self.path,
            source: &self.source,
            overridden,
        };
        let mut scenario = Self::read(&context, &table)?;
        scenario.table = table;
        scenario.source = self.source.clone();
        scenario.overridden = context.overridden;
        Ok(scenario)
    }

    fn read(context: &Context<'_>, table: &Table) -> Result<Self> {
        let top = Reader::new(context, "", table);
        let model_name = top
            .string("model")?
            .ok_or_else(|| top.error("model", "missing; name a model"))?;
        let model = ModelKind::ALL
            .iter()
            .find(|(name, _)| *name == model_name)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = ModelKind::ALL.iter().map(|(n, _)| *n).collect();
                top.error(
                    "model",
                    format!("unknown model `{model_name}`; known: {}", names.join(", ")),
                )
            })?;
        let seed = top.u64("seed")?.unwrap_or(0);
        let max_steps = top.u64("max_steps")?.unwrap_or(10_000);
        let scheduler = match top.string("scheduler")? {
            None => model.default_scheduler(),
            Some(name) => [Scheduler::Synchronous, Scheduler::RandomSequential, Scheduler::ShuffledSweep, Scheduler::Pairwise]
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    top.error("scheduler", format!("unknown scheduler `{name}`; known: synchronous, random_sequential, shuffled_sweep, pairwise"))
                })?,
        };
        let graph = match top.table("graph")? {
            None => GraphSpec::Complete,
            Some(g) => read_graph(&g, context)?,
        };
        let n_agents = match (&graph, top.usize("n_agents")?) {
            (GraphSpec::Sbm { sizes, .. }, given) => {
                let total = sizes.iter().sum();
                if given.is_some_and(|n| n != total) {
                    return Err(top.error(
                        "n_agents",
                        format!(
                            "{} disagrees with the block sizes, which sum to {total}",
                            given.unwrap_or(0)
                        ),
                    ));
                }
                total
            }
            (GraphSpec::EdgeList { .. }, given) => given.unwrap_or(0),
            (_, Some(n)) => n,
            (_, None) => return Err(top.error("n_agents", "missing; how many agents?")),
        };
        let params_table = Table::new();
        let params_reader = top
            .table("params")?
            .unwrap_or_else(|| Reader::new(context, "params", &params_table));
        let params = read_params(model, &params_reader)?;
        let record = match top.table("record")? {
            None => RecordConfig::default(),
            Some(r) => read_record(&r)?,
        };
        let sweep = match top.table("sweep")? {
            None => None,
            Some(s) => Some(read_sweep(&s)?),
        };
        top.finish(&[
            "model",
            "seed",
            "n_agents",
            "max_steps",
            "scheduler",
            "graph",
            "params",
            "record",
            "sweep",
        ])?;
        Ok(Self {
            model,
            seed,
            n_agents,
            max_steps,
            scheduler,
            graph,
            params,
            record,
            sweep,
            table: Table::new(),
            path: context.path.to_path_buf(),
            source: String::new(),
            overridden: BTreeMap::new(),
        })
    }

    /// Builds the topology (graphs are seeded with the scenario seed).
    ///
    /// # Errors
    /// When a generator rejects its parameters or an edge list is malformed.
    pub fn build_topology(&self) -> Result<Topology> {
        let n = self.n_agents;
        let context = Context {
            path: &self.path,
            source: &self.source,
            overridden: self.overridden.clone(),
        };
        let at_graph = |e: DynamicsError| match e {
            DynamicsError::InvalidParameter { key, reason } => context.error(&key, reason),
            other => other,
        };
        Ok(match &self.graph {
            GraphSpec::Complete => Topology::Complete { n },
            GraphSpec::ErdosRenyi { p } => {
                Topology::Graph(graph::erdos_renyi(n, *p, self.seed).map_err(at_graph)?)
            }
            GraphSpec::WattsStrogatz { k, p } => {
                Topology::Graph(graph::watts_strogatz(n, *k, *p, self.seed).map_err(at_graph)?)
            }
            GraphSpec::BarabasiAlbert { m } => {
                Topology::Graph(graph::barabasi_albert(n, *m, self.seed).map_err(at_graph)?)
            }
            GraphSpec::Sbm {
                sizes,
                probabilities,
            } => Topology::Graph(
                graph::stochastic_block_model(sizes, probabilities, self.seed).map_err(at_graph)?,
            ),
            GraphSpec::EdgeList { path, directed } => {
                let resolved = if path.is_relative() {
                    self.path.parent().unwrap_or(Path::new(".")).join(path)
                } else {
                    path.clone()
                };
                Topology::Graph(graph::read_edge_list(
                    &resolved,
                    EdgeListFormat::from_path(&resolved),
                    *directed,
                    n,
                )?)
            }
        })
    }

    /// Builds the model under its scheduler, ready to run.
    ///
    /// # Errors
    /// When the graph cannot be built or a parameter is out of range; parameter errors name
    /// the scenario line.
    pub fn build(&self) -> Result<Box<dyn Runnable>> {
        let topology = self.build_topology()?;
        let context = Context {
            path: &self.path,
            source: &self.source,
            overridden: self.overridden.clone(),
        };
        let seed = self.seed;
        let explicit = |topology: Topology| -> Result<Graph> {
            match topology {
                Topology::Graph(g) => Ok(g),
                Topology::Complete { n } => graph::complete(n),
            }
        };
        let built: Result<Box<dyn Runnable>> = (|| {
            Ok(match &self.params {
                ModelParams::DeGroot(p) => {
                    boxed(DeGroot::new(p.clone(), explicit(topology)?, seed)?, self)?
                }
                ModelParams::FriedkinJohnsen(p) => boxed(
                    FriedkinJohnsen::new(p.clone(), explicit(topology)?, seed)?,
                    self,
                )?,
                ModelParams::Hk(p) => match topology {
                    Topology::Complete { n } if self.scheduler == Scheduler::Synchronous => {
                        boxed(HkComplete::new(p.clone(), n, seed)?, self)?
                    }
                    topology => boxed(HegselmannKrause::new(p.clone(), topology, seed)?, self)?,
                },
                ModelParams::Deffuant(p) => boxed(Deffuant::new(p.clone(), topology, seed)?, self)?,
                ModelParams::QVoter(p) => boxed(QVoter::new(p.clone(), topology, seed)?, self)?,
                ModelParams::Majority(p) => {
                    boxed(MajorityRule::new(p.clone(), topology, seed)?, self)?
                }
                ModelParams::Compartmental(p) => {
                    boxed(Compartmental::new(p.clone(), topology, seed)?, self)?
                }
                ModelParams::MakiThompson(p) => {
                    boxed(MakiThompson::new(p.clone(), topology, seed)?, self)?
                }
                ModelParams::Misinformation(p) => {
                    boxed(Misinformation::new(p.clone(), topology, seed)?, self)?
                }
            })
        })();
        built.map_err(|e| match e {
            DynamicsError::InvalidParameter { key, reason } => context.error(&key, reason),
            other => other,
        })
    }
}

fn boxed<R: crate::UpdateRule + Send + 'static>(
    rule: R,
    scenario: &Scenario,
) -> Result<Box<dyn Runnable>> {
    Ok(Box::new(Simulation::new(
        rule,
        scenario.scheduler,
        scenario.seed,
    )?))
}

fn read_graph(g: &Reader<'_>, _context: &Context<'_>) -> Result<GraphSpec> {
    let kind = g.string("kind")?.unwrap_or("complete");
    let allowed: &[&str] = match kind {
        "erdos_renyi" => &["kind", "p"],
        "watts_strogatz" => &["kind", "k", "p"],
        "barabasi_albert" => &["kind", "m"],
        "sbm" => &["kind", "sizes", "probabilities"],
        "edge_list" => &["kind", "path", "directed"],
        _ => &["kind"],
    };
    if kind != "complete" && allowed.len() > 1 {
        g.reject_unknown(allowed)?;
    }
    let spec = match kind {
        "complete" => {
            g.finish(&["kind"])?;
            GraphSpec::Complete
        }
        "erdos_renyi" => {
            let spec = GraphSpec::ErdosRenyi { p: g.required_f64("p")? };
            g.finish(&["kind", "p"])?;
            spec
        }
        "watts_strogatz" => {
            let k = g.usize("k")?.ok_or_else(|| g.error("k", "missing (ring neighbours, even)"))?;
            let spec = GraphSpec::WattsStrogatz { k, p: g.required_f64("p")? };
            g.finish(&["kind", "k", "p"])?;
            spec
        }
        "barabasi_albert" => {
            let m = g.usize("m")?.ok_or_else(|| g.error("m", "missing (edges per new node)"))?;
            g.finish(&["kind", "m"])?;
            GraphSpec::BarabasiAlbert { m }
        }
        "sbm" => {
            let sizes = g.f64_list("sizes")?.ok_or_else(|| g.error("sizes", "missing (block sizes)"))?;
            let sizes: Vec<usize> = sizes.into_iter().map(|s| s as usize).collect();
            let probabilities = match g.get("probabilities") {
                Some(Value::Array(rows)) => rows
                    .iter()
                    .enumerate()
                    .map(|(r, row)| match row {
                        Value::Array(items) => items
                            .iter()
                            .map(|v| match v {
                                Value::Float(x) => Ok(*x),
                                Value::Integer(i) => Ok(*i as f64),
                                other => Err(g.error(&format!("probabilities[{r}]"), format!("expected a number, found `{other}`"))),
                            })
                            .collect::<Result<Vec<f64>>>(),
                        other => Err(g.error(&format!("probabilities[{r}]"), format!("expected an array, found `{other}`"))),
                    })
                    .collect::<Result<Vec<_>>>()?,
                Some(other) => return Err(g.error("probabilities", format!("expected a matrix, found {}", other.type_str()))),
                None => return Err(g.error("probabilities", "missing (block edge probabilities)")),
            };
            g.finish(&["kind", "sizes", "probabilities"])?;
            GraphSpec::Sbm { sizes, probabilities }
        }
        "edge_list" => {
            let path = g.string("path")?.ok_or_else(|| g.error("path", "missing (CSV or Parquet edge list)"))?;
            let directed = g.bool("directed")?.unwrap_or(false);
            g.finish(&["kind", "path", "directed"])?;
            GraphSpec::EdgeList { path: PathBuf::from(path), directed }
        }
        other => {
            return Err(g.error(
                "kind",
                format!("unknown graph kind `{other}`; known: complete, erdos_renyi, watts_strogatz, barabasi_albert, sbm, edge_list"),
            ))
        }
    };
    Ok(spec)
}

fn read_initial(p: &Reader<'_>) -> Result<InitialOpinions> {
    let Some(initial) = p.table("initial")? else {
        return Ok(InitialOpinions::default());
    };
    let kind = initial.string("kind")?.unwrap_or("uniform");
    let result = match kind {
        "uniform" | "grid" => {
            let low = initial.f64("low")?.unwrap_or(0.0);
            let high = initial.f64("high")?.unwrap_or(1.0);
            initial.finish(&["kind", "low", "high"])?;
            if kind == "uniform" {
                InitialOpinions::Uniform { low, high }
            } else {
                InitialOpinions::Grid { low, high }
            }
        }
        "values" => {
            let values = initial
                .f64_list("values")?
                .ok_or_else(|| initial.error("values", "missing"))?;
            initial.finish(&["kind", "values"])?;
            InitialOpinions::Values(values)
        }
        other => {
            return Err(initial.error(
                "kind",
                format!("unknown initial kind `{other}`; known: uniform, grid, values"),
            ))
        }
    };
    Ok(result)
}

fn allowed_params(model: ModelKind) -> &'static [&'static str] {
    match model {
        ModelKind::DeGroot => &["initial"],
        ModelKind::FriedkinJohnsen => &["initial", "susceptibility"],
        ModelKind::Hk => &["epsilon", "initial"],
        ModelKind::Deffuant => &["epsilon", "mu", "initial", "settle_tolerance"],
        ModelKind::Voter => &["initial_fraction_a"],
        ModelKind::QVoter => &["q", "flip_probability", "initial_fraction_a"],
        ModelKind::Majority => &["group_size", "initial_fraction_a"],
        ModelKind::Sir => &["beta", "gamma", "initial_infected"],
        ModelKind::Seir => &["beta", "gamma", "sigma", "initial_infected"],
        ModelKind::MakiThompson => &["initial_spreaders"],
        ModelKind::Misinformation => &[
            "beta",
            "alpha",
            "p_verify",
            "p_forget",
            "initial_believers",
            "interventions",
        ],
    }
}

fn read_params(model: ModelKind, p: &Reader<'_>) -> Result<ModelParams> {
    p.reject_unknown(allowed_params(model))?;
    let (params, allowed): (ModelParams, &[&str]) = match model {
        ModelKind::DeGroot => (
            ModelParams::DeGroot(LinearParams {
                initial: read_initial(p)?,
            }),
            &["initial"],
        ),
        ModelKind::FriedkinJohnsen => (
            ModelParams::FriedkinJohnsen(FjParams {
                initial: read_initial(p)?,
                susceptibility: p.f64_list("susceptibility")?.unwrap_or_default(),
            }),
            &["initial", "susceptibility"],
        ),
        ModelKind::Hk => (
            ModelParams::Hk(HkParams {
                epsilon: p.required_f64("epsilon")?,
                initial: read_initial(p)?,
            }),
            &["epsilon", "initial"],
        ),
        ModelKind::Deffuant => (
            ModelParams::Deffuant(DeffuantParams {
                epsilon: p.required_f64("epsilon")?,
                mu: p.f64("mu")?.unwrap_or(0.5),
                initial: read_initial(p)?,
                settle_tolerance: p.f64("settle_tolerance")?.unwrap_or(1e-6),
            }),
            &["epsilon", "mu", "initial", "settle_tolerance"],
        ),
        ModelKind::Voter => (
            ModelParams::QVoter(QVoterParams {
                initial_fraction_a: p.f64("initial_fraction_a")?.unwrap_or(0.5),
                ..QVoterParams::default()
            }),
            &["initial_fraction_a"],
        ),
        ModelKind::QVoter => (
            ModelParams::QVoter(QVoterParams {
                q: p.usize("q")?.unwrap_or(1),
                flip_probability: p.f64("flip_probability")?.unwrap_or(0.0),
                initial_fraction_a: p.f64("initial_fraction_a")?.unwrap_or(0.5),
            }),
            &["q", "flip_probability", "initial_fraction_a"],
        ),
        ModelKind::Majority => (
            ModelParams::Majority(MajorityParams {
                group_size: p.usize("group_size")?.unwrap_or(3),
                initial_fraction_a: p.f64("initial_fraction_a")?.unwrap_or(0.5),
            }),
            &["group_size", "initial_fraction_a"],
        ),
        ModelKind::Sir | ModelKind::Seir => {
            let sigma = if model == ModelKind::Seir {
                Some(p.required_f64("sigma")?)
            } else {
                None
            };
            (
                ModelParams::Compartmental(CompartmentalParams {
                    beta: p.required_f64("beta")?,
                    gamma: p.required_f64("gamma")?,
                    sigma,
                    initial_infected: p.f64("initial_infected")?.unwrap_or(0.001),
                }),
                if sigma.is_some() {
                    &["beta", "gamma", "sigma", "initial_infected"]
                } else {
                    &["beta", "gamma", "initial_infected"]
                },
            )
        }
        ModelKind::MakiThompson => (
            ModelParams::MakiThompson(MakiThompsonParams {
                initial_spreaders: p.usize("initial_spreaders")?.unwrap_or(1),
            }),
            &["initial_spreaders"],
        ),
        ModelKind::Misinformation => {
            let mut interventions = Vec::new();
            match p.get("interventions") {
                None => {}
                Some(Value::Array(items)) => {
                    for (k, item) in items.iter().enumerate() {
                        let Value::Table(t) = item else {
                            return Err(p.error(
                                &format!("interventions[{k}]"),
                                "expected a table with step, reach, efficacy",
                            ));
                        };
                        let r =
                            Reader::new(p.context, &format!("{}.interventions[{k}]", p.prefix), t);
                        interventions.push(Intervention {
                            step: r.u64("step")?.ok_or_else(|| {
                                r.error("step", "missing (sweep of the broadcast)")
                            })?,
                            reach: r.required_f64("reach")?,
                            efficacy: r.required_f64("efficacy")?,
                        });
                        r.finish(&["step", "reach", "efficacy"])?;
                    }
                }
                Some(other) => {
                    return Err(p.error(
                        "interventions",
                        format!("expected an array of tables, found {}", other.type_str()),
                    ))
                }
            }
            (
                ModelParams::Misinformation(MisinformationParams {
                    beta: p.required_f64("beta")?,
                    alpha: p.f64("alpha")?.unwrap_or(0.5),
                    p_verify: p.f64("p_verify")?.unwrap_or(0.05),
                    p_forget: p.f64("p_forget")?.unwrap_or(0.0),
                    initial_believers: p.f64("initial_believers")?.unwrap_or(0.01),
                    interventions,
                }),
                &[
                    "beta",
                    "alpha",
                    "p_verify",
                    "p_forget",
                    "initial_believers",
                    "interventions",
                ],
            )
        }
    };
    p.finish(allowed)?;
    Ok(params)
}

fn read_record(r: &Reader<'_>) -> Result<RecordConfig> {
    let mut config = RecordConfig::default();
    match r.get("outputs") {
        None => {}
        Some(Value::Array(items)) => {
            for (k, item) in items.iter().enumerate() {
                let Value::String(name) = item else {
                    return Err(r.error(
                        &format!("outputs[{k}]"),
                        format!("expected an output name, found `{item}`"),
                    ));
                };
                config
                    .outputs
                    .push(Output::parse(name).map_err(|e| r.error("outputs", e.to_string()))?);
            }
        }
        Some(other) => {
            return Err(r.error(
                "outputs",
                format!("expected an array of names, found {}", other.type_str()),
            ))
        }
    }
    if let Some(every) = r.u64("every")? {
        if every == 0 {
            return Err(r.error("every", "must be at least 1"));
        }
        config.every = every;
    }
    config.trajectories = r.bool("trajectories")?.unwrap_or(false);
    if let Some(gap) = r.f64("cluster_gap")? {
        if gap.is_nan() || gap < 0.0 {
            return Err(r.error("cluster_gap", "must be >= 0"));
        }
        config.cluster_gap = gap;
    }
    r.finish(&["outputs", "every", "trajectories", "cluster_gap"])?;
    Ok(config)
}

fn read_sweep(s: &Reader<'_>) -> Result<SweepSpec> {
    let replicates = s.u64("replicates")?.unwrap_or(1);
    if replicates == 0 {
        return Err(s.error("replicates", "must be at least 1"));
    }
    let mut grid = Vec::new();
    if let Some(g) = s.table("grid")? {
        for (key, value) in g.table {
            g.used.borrow_mut().insert(key.clone());
            match value {
                Value::Array(values) if !values.is_empty() => {
                    grid.push((key.clone(), values.clone()))
                }
                _ => return Err(g.error(key, "expected a non-empty array of values")),
            }
        }
    }
    s.finish(&["replicates", "grid"])?;
    Ok(SweepSpec { replicates, grid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lookup_finds_tables_inline_keys_and_ancestors() {
        let source = "model = \"hk\"\n\n[params]\nepsilon = 0.2\ninitial = { kind = \"grid\" }\n";
        assert_eq!(line_of(source, "model"), 1);
        assert_eq!(line_of(source, "params.epsilon"), 4);
        assert_eq!(line_of(source, "params.initial.kind"), 5);
        assert_eq!(line_of(source, "params"), 3);
        assert_eq!(line_of(source, "seed"), 0);
    }

    #[test]
    fn overrides_parse_as_toml_or_fall_back_to_strings() {
        assert_eq!(
            parse_override("params.epsilon=0.1").unwrap(),
            ("params.epsilon".into(), Value::Float(0.1))
        );
        assert_eq!(
            parse_override("model=voter").unwrap(),
            ("model".into(), Value::String("voter".into()))
        );
        assert!(parse_override("noequals").is_err());
    }
}
