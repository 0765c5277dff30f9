# Shared by the brms bench scripts: arguments, timing, and the files run_bench.py reads.
# Usage: Rscript bench/brms/<model>.R DATA.csv OUT_DIR SEED ADAPT_DELTA CHAINS WARMUP DRAWS
suppressPackageStartupMessages({
  library(brms)
  library(rstan)
})
args <- commandArgs(trailingOnly = TRUE)
data_path <- args[1]
out_dir <- args[2]
seed <- as.integer(args[3])
adapt_delta <- as.numeric(args[4])
chains <- as.integer(args[5])
warmup <- as.integer(args[6])
draws <- as.integer(args[7])
d <- read.csv(data_path)
cols <- function(prefix) grep(paste0("^", prefix), names(d), value = TRUE)

# Compile (chains = 0: brms writes and compiles the Stan program, samples nothing), then
# sample the compiled model, chains in parallel; both timed.
fit_brms <- function(formula, family, prior) {
  t0 <- Sys.time()
  empty <- brm(formula, data = d, family = family, prior = prior, chains = 0,
               backend = "rstan", silent = 2, refresh = 0)
  t1 <- Sys.time()
  fit <- update(empty, recompile = FALSE, chains = chains, cores = chains,
                warmup = warmup, iter = warmup + draws, seed = seed,
                control = list(adapt_delta = adapt_delta), refresh = 0, silent = 2)
  t2 <- Sys.time()
  draws_df <- as.data.frame(as_draws_df(fit))
  write.csv(draws_df, file.path(out_dir, "draws.csv"), row.names = FALSE)
  np <- nuts_params(fit)
  divergent <- sum(np$Value[np$Parameter == "divergent__"])
  depth <- mean(np$Value[np$Parameter == "treedepth__"])
  writeLines(sprintf(paste0('{"wall_compile": %.3f, "wall_sampling": %.3f, ',
                            '"divergences": %d, "mean_tree_depth": %.3f, "brms": "%s", ',
                            '"rstan": "%s"}'),
                     as.numeric(difftime(t1, t0, units = "secs")),
                     as.numeric(difftime(t2, t1, units = "secs")), as.integer(divergent),
                     depth, as.character(packageVersion("brms")),
                     as.character(packageVersion("rstan"))),
             file.path(out_dir, "timing.json"))
  cat(stancode(fit), file = file.path(out_dir, "model.stan"))
}
