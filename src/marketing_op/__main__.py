from marketing_op.cli import main

main()
