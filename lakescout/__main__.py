from lakescout.cli import main

main()
