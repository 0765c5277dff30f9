# Converts psych's bfi data set (SAPA project; Debian package r-cran-psych) into triad's
# respondent format, and prints the help page's own example (describe + scoreItems), whose
# printed values are transcribed into ../published/.  Run once from this folder:
#   Rscript convert.R > bfi_example_output.txt
# Needs: apt-get install r-base-core r-cran-psych  (psych 2.2.9 was used).
suppressPackageStartupMessages(library(psych))
data(bfi, package = "psych")
cat("psych", as.character(packageVersion("psych")), "\n")
edu <- c("hs_incomplete", "hs", "some_college", "college", "graduate")
out <- data.frame(
  respondent_id = rownames(bfi),
  role = "respondent",
  sector = ifelse(is.na(bfi$education), "not_reported", edu[bfi$education]),
  gender = ifelse(bfi$gender == 1, "male", "female"),
  age = bfi$age
)
scales <- c(A = "agree", C = "consc", E = "extra", N = "neuro", O = "open")
for (s in names(scales)) for (i in 1:5) {
  v <- bfi[[paste0(s, i)]]
  out[[paste0(scales[[s]], "_", i)]] <- ifelse(is.na(v), "", v)
}
write.csv(out, "../respondents.csv", row.names = FALSE, quote = FALSE, na = "")
# The help page's example, as printed (?psych::bfi):
print(psych::describe(bfi))
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"),
             conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
             neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
scores <- psych::scoreItems(keys, bfi, min = 1, max = 6)
print(scores)
