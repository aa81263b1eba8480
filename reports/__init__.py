"""Reports for people: the nightly HTML report for analysts and managers."""
